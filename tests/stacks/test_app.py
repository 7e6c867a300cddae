"""The app: which stacks it writes, and that a bad stage file stops it before any Terraform."""

from __future__ import annotations

import shutil

import pytest

from environments import ENVIRONMENTS_DIR, StageConfigError
from stacks.app import STAGES_VARIABLE, build_app, selected_stages
from tests.conftest import SECURITY_STACKS, STAGES


def test_app_writes_the_state_stack_the_account_baselines_and_one_stack_per_stage(synth_dir):
    """One stack per stage file, the bootstrap, and one baseline per account and region however many stages
    share the account (tests/stacks/test_security_stack.py names the shipped ones)."""
    expected = ["digital-booking-state", *(f"digital-booking-{stage}" for stage in STAGES), *SECURITY_STACKS]
    assert sorted(p.name for p in (synth_dir / "stacks").iterdir()) == sorted(expected)


def test_a_bad_stage_file_stops_synth_before_anything_is_written(tmp_path):
    environments = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, environments, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    prod = environments / "prod.toml"
    prod.write_text(prod.read_text().replace('nat_gateways = "per_az"', 'nat_gateways = "single"'))
    outdir = tmp_path / "out"
    with pytest.raises(StageConfigError, match="prod.toml: network.nat_gateways = 'single'"):
        build_app(outdir=str(outdir), environments_dir=environments).synth()
    assert not outdir.exists()


def test_stage_selection_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(STAGES_VARIABLE, "dev, prod")
    assert selected_stages() == ["dev", "prod"]
    monkeypatch.setenv(STAGES_VARIABLE, "")
    assert selected_stages() is None


def test_one_stage_only_synthesizes_that_stage_the_bootstrap_and_the_baselines(tmp_path):
    build_app(outdir=str(tmp_path), stages=["dev"]).synth()
    assert sorted(p.name for p in (tmp_path / "stacks").iterdir()) == [
        "digital-booking-dev",
        "digital-booking-security-nonprod-eu-central-1",
        "digital-booking-security-nonprod-eu-west-1",
        "digital-booking-security-prod-eu-central-1",
        "digital-booking-security-prod-eu-west-1",
        "digital-booking-state",
    ]


def test_main_reports_a_bad_stage_name_and_exits_2(monkeypatch, capsys):
    import main

    monkeypatch.setenv(STAGES_VARIABLE, "qa")
    assert main.main() == 2
    assert "unknown stage 'qa': allowed: dev, prod, staging" in capsys.readouterr().err
