"""The shipped stage files load, and each kind of bad input is refused with a clear message."""

from __future__ import annotations

import pytest

from environments import ENVIRONMENTS_DIR, StageConfigError, load_stages, load_state_backend, stage_names
from tests.environments.stage_edits import rejection_of_edit


def test_every_shipped_stage_loads():
    assert [c.name for c in load_stages()] == ["dev", "prod", "staging"]


def test_stage_names_skip_underscore_files():
    assert "_state" not in stage_names()


def test_only_prod_is_production():
    assert {c.name: c.production for c in load_stages()} == {"dev": False, "staging": False, "prod": True}


def test_state_backend_settings_load():
    settings = load_state_backend()
    assert settings.bucket and settings.lock_table and settings.region == "eu-west-1"


def test_malformed_cidr_is_rejected_with_file_field_value_and_allowed():
    message = rejection_of_edit("dev", lambda raw: raw["network"].update(vpc_cidr="10.10.0.0/33"))
    assert "environments/dev.toml: network.vpc_cidr = '10.10.0.0/33'" in message
    assert "allowed: an IPv4 CIDR" in message


def test_cidr_with_host_bits_is_rejected():
    message = rejection_of_edit("dev", lambda raw: raw["network"]["public_subnets"].__setitem__(0, "10.10.0.7/24"))
    assert "network.public_subnets[0] = '10.10.0.7/24'" in message and "host bits zero" in message


def test_overlapping_subnets_are_rejected():
    message = rejection_of_edit("dev", lambda raw: raw["network"]["private_app_subnets"].__setitem__(0, "10.10.0.0/23"))
    assert "network.private_app_subnets[0] = '10.10.0.0/23': overlaps network.public_subnets[0]" in message
    assert "allowed: non-overlapping subnet CIDRs" in message


def test_subnet_outside_the_vpc_is_rejected():
    def move_a_data_subnet_out(raw):
        raw["network"]["private_data_subnets"][2] = "10.99.0.0/24"
    message = rejection_of_edit("staging", move_a_data_subnet_out)
    assert "network.private_data_subnets[2] = '10.99.0.0/24': outside the VPC 10.20.0.0/16" in message
    assert "allowed: a CIDR inside 10.20.0.0/16" in message


def test_prod_with_two_azs_is_rejected():
    def two_azs(raw):
        for key in ("azs", "public_subnets", "private_app_subnets", "private_data_subnets"):
            raw["network"][key] = raw["network"][key][:2]
    message = rejection_of_edit("prod", two_azs)
    assert "environments/prod.toml: network.azs = ['eu-west-1a', 'eu-west-1b']" in message
    assert "allowed: at least 3 distinct AZs" in message


def test_non_production_stage_needs_two_azs():
    def one_az(raw):
        for key in ("azs", "public_subnets", "private_app_subnets", "private_data_subnets"):
            raw["network"][key] = raw["network"][key][:1]
    assert "allowed: at least 2 distinct AZs" in rejection_of_edit("dev", one_az)


def test_az_of_another_region_is_rejected():
    message = rejection_of_edit("dev", lambda raw: raw["network"]["azs"].__setitem__(1, "us-east-1b"))
    assert "network.azs = 'us-east-1b': not an AZ of region eu-west-1" in message


def test_subnet_count_must_match_az_count():
    message = rejection_of_edit("dev", lambda raw: raw["network"]["public_subnets"].pop())
    assert "network.public_subnets = ['10.10.0.0/24']: 1 subnet(s) for 2 AZ(s)" in message


def test_prod_with_single_nat_is_rejected():
    message = rejection_of_edit("prod", lambda raw: raw["network"].update(nat_gateways="single"))
    assert "network.nat_gateways = 'single'" in message and "allowed: 'per_az' in a production stage" in message


def test_unknown_nat_mode_lists_the_allowed_values():
    message = rejection_of_edit("dev", lambda raw: raw["network"].update(nat_gateways="some"))
    assert "network.nat_gateways = 'some': wrong type or value; allowed: 'single'" in message


def test_unknown_key_is_reported_as_a_typo_with_the_known_keys():
    message = rejection_of_edit("dev", lambda raw: raw["network"].update(vpc_cdir="10.0.0.0/16"))
    assert "network.vpc_cdir = '10.0.0.0/16': unknown key (a typo?); allowed: one of " in message
    assert "vpc_cidr" in message


def test_unknown_section_is_reported():
    message = rejection_of_edit("dev", lambda raw: raw.update(netwrok={}))
    assert "netwrok = {}: unknown section (a typo?)" in message


def test_missing_required_value_is_reported():
    message = rejection_of_edit("dev", lambda raw: raw["network"].pop("vpc_cidr"))
    assert "network.vpc_cidr = None: missing required value; allowed: an IPv4 CIDR" in message


def test_wrong_type_is_reported():
    message = rejection_of_edit("dev", lambda raw: raw["stage"].update(production="yes"))
    assert "stage.production = 'yes': wrong type or value; allowed: true or false" in message


def test_log_retention_must_be_a_cloudwatch_value():
    message = rejection_of_edit("dev", lambda raw: raw["network"].update(flow_log_retention_days=10))
    assert "network.flow_log_retention_days = 10" in message and "allowed: one of 1, 3, 5, 7, 14, 30" in message


def test_all_problems_of_a_file_come_in_one_message():
    def two_mistakes(raw):
        raw["network"]["vpc_cidr"] = "nonsense"
        raw["network"]["nat_gateways"] = "single"
    message = rejection_of_edit("prod", two_mistakes)
    assert message.startswith("2 problem(s) in stage file environments/prod.toml")


def test_unknown_stage_name_lists_the_stage_files():
    with pytest.raises(StageConfigError, match="unknown stage 'qa': allowed: dev, prod, staging"):
        load_stages(only=["qa"])


def test_a_new_stage_is_just_a_new_file(tmp_path):
    (tmp_path / "qa.toml").write_text((ENVIRONMENTS_DIR / "dev.toml").read_text())
    assert [c.name for c in load_stages(directory=tmp_path)] == ["qa"]


def test_invalid_toml_names_the_file(tmp_path):
    (tmp_path / "qa.toml").write_text("[network\n")
    with pytest.raises(StageConfigError, match="qa.toml: not valid TOML"):
        load_stages(directory=tmp_path)
