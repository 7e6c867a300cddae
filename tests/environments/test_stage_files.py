"""The stage loader: the shipped files load into the tiers' settings, and each kind of bad input
(unknown keys and sections, wrong types, unreadable files) is refused with a clear message."""

from __future__ import annotations

import copy

import pytest

from environments import (
    ENVIRONMENTS_DIR,
    SECTIONS,
    StageConfigError,
    load_stage,
    load_stages,
    load_state_backend,
    parse_stage,
    stage_names,
)
from tests.environments.stage_edits import rejection, rejection_of_edit, shipped


def test_every_shipped_stage_loads():
    assert [c.name for c in load_stages()] == ["dev", "prod", "staging"]


def test_stage_names_skip_underscore_files():
    assert "_state" not in stage_names()


def test_state_backend_settings_load():
    settings = load_state_backend()
    assert settings.bucket and settings.lock_table and settings.region == "eu-west-1"
    assert settings.kms_key_alias == "alias/digital-booking-terraform-state"


@pytest.mark.parametrize("alias", ["digital-booking-terraform-state", "alias/aws/s3", "alias/with space"])
def test_state_key_alias_must_be_a_customer_alias_name(tmp_path, alias):
    """KMS CreateAlias: names start with ``alias/``; ``alias/aws/`` is reserved for AWS managed keys.
    Terraform's s3 backend checks ``kms_key_id`` against the same pattern."""
    text = (ENVIRONMENTS_DIR / "_state.toml").read_text()
    (tmp_path / "_state.toml").write_text(text.replace('"alias/digital-booking-terraform-state"', repr(alias)))
    with pytest.raises(StageConfigError, match=f"kms_key_alias = '{alias}': not a customer alias name"):
        load_state_backend(tmp_path)


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


def test_unknown_stage_name_lists_the_stage_files():
    with pytest.raises(StageConfigError, match="unknown stage 'qa': allowed: dev, prod, staging"):
        load_stages(only=["qa"])


def with_accounts(directory):
    """A stage directory needs the accounts file its stages name."""
    (directory / "_accounts.toml").write_text((ENVIRONMENTS_DIR / "_accounts.toml").read_text())
    return directory


def test_a_new_stage_is_just_a_new_file(tmp_path):
    (with_accounts(tmp_path) / "qa.toml").write_text((ENVIRONMENTS_DIR / "dev.toml").read_text())
    assert [c.name for c in load_stages(directory=tmp_path)] == ["qa"]


def test_invalid_toml_names_the_file(tmp_path):
    (with_accounts(tmp_path) / "qa.toml").write_text("[network\n")
    with pytest.raises(StageConfigError, match="qa.toml: not valid TOML"):
        load_stages(directory=tmp_path)


def test_every_section_is_built_into_its_settings_class():
    for stage in stage_names():
        config = load_stage(stage)
        for section, cls in SECTIONS.items():
            assert isinstance(getattr(config, section), cls), (stage, section)


def test_a_stage_may_omit_every_table_whose_fields_all_have_defaults():
    raw = copy.deepcopy(shipped("dev"))
    del raw["static_assets"], raw["monitoring"]
    config = parse_stage("dev", raw, "environments/dev.toml")
    assert config.static_assets == SECTIONS["static_assets"]() and config.monitoring == SECTIONS["monitoring"]()


@pytest.mark.parametrize(
    "section, key",
    [
        ("database", "monitoring_interval_seconds"),
        ("app_servers", "min_size"),
        ("monitoring", "app_cpu_percent"),
        ("database", "port"),
    ],
)
def test_true_where_a_number_is_expected_is_refused(section, key):
    message = rejection("dev", section, **{key: True})
    assert f"environments/dev.toml: {section}.{key} = True: wrong type or value; allowed: " in message


def test_a_stage_file_that_is_not_utf8_is_refused(tmp_path):
    (with_accounts(tmp_path) / "qa.toml").write_bytes(b'[stage]\nregion = "eu-west-1"\nowner = "\xff\xfe"\n')
    with pytest.raises(StageConfigError, match=r"qa.toml: not UTF-8 text .*allowed: a UTF-8 TOML file"):
        load_stages(directory=tmp_path)


def test_a_directory_named_like_a_stage_file_is_refused(tmp_path):
    (with_accounts(tmp_path) / "qa.toml").mkdir()
    with pytest.raises(StageConfigError, match="qa.toml: a directory, not a stage file"):
        load_stages(directory=tmp_path)


def test_an_unreadable_stage_file_is_refused(tmp_path, monkeypatch):
    (with_accounts(tmp_path) / "qa.toml").write_text((ENVIRONMENTS_DIR / "dev.toml").read_text())
    real_read_text = type(tmp_path).read_text

    def refuse(self, *args, **kwargs):  # what a file without read permission does (root reads anything)
        if self.name == "_accounts.toml":
            return real_read_text(self, *args, **kwargs)
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(tmp_path), "read_text", refuse)
    with pytest.raises(StageConfigError, match=r"qa.toml: cannot be read \(Permission denied\)"):
        load_stages(directory=tmp_path)


def test_a_deregistration_delay_longer_than_the_drain_waits_is_refused():
    """A leaving app server waits for the load balancer's connections to close for at most
    DRAIN_CONNECTIONS_SECONDS, inside its terminating hook's timeout; the ALB keeps a deregistering
    target's in-flight requests for the deregistration delay ("Target groups for your Application Load
    Balancers", Deregistration delay), so a longer delay would see the app stopped under them."""
    message = rejection("staging", "load_balancer", deregistration_delay_seconds=300)
    assert "environments/staging.toml: load_balancer.deregistration_delay_seconds = 300: longer than a leaving" in (
        message
    )
    assert "allowed: 0 to 70 seconds" in message
