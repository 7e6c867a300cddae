"""[network] settings: CIDRs, AZs and subnets the VPC tier refuses, clearly."""

from __future__ import annotations

from tests.environments.stage_edits import rejection_of_edit


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


def test_unknown_nat_mode_lists_the_allowed_values():
    message = rejection_of_edit("dev", lambda raw: raw["network"].update(nat_gateways="some"))
    assert "network.nat_gateways = 'some': wrong type or value; allowed: 'single'" in message


def test_log_retention_must_be_a_cloudwatch_value():
    message = rejection_of_edit("dev", lambda raw: raw["network"].update(flow_log_retention_days=10))
    assert "network.flow_log_retention_days = 10" in message and "allowed: one of 1, 3, 5, 7, 14, 30" in message
