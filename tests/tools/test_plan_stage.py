"""``make plan`` / ``make diff``: the credential check that stops them cleanly, and the emulator override."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tools import emulator, plan_stage
from tools.terraform_cli import PROJECT_DIR

CLEAN = {"HOME": "/nonexistent-home", "PATH": "/usr/bin:/bin"}


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_credentials_anywhere_is_none():
    assert plan_stage.find_credentials(CLEAN) is None


def test_environment_keys_count():
    env = {**CLEAN, "AWS_ACCESS_KEY_ID": "AKIA...", "AWS_SECRET_ACCESS_KEY": "x"}
    assert "environment variables" in plan_stage.find_credentials(env)


def test_access_key_without_secret_does_not_count():
    assert plan_stage.find_credentials({**CLEAN, "AWS_ACCESS_KEY_ID": "AKIA..."}) is None


def test_web_identity_counts():
    env = {**CLEAN, "AWS_WEB_IDENTITY_TOKEN_FILE": "/tmp/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/ci"}
    assert plan_stage.find_credentials(env) == "web identity token for arn:aws:iam::1:role/ci"


def test_container_endpoint_counts():
    assert plan_stage.find_credentials({**CLEAN, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"})


def test_default_profile_in_credentials_file(tmp_path):
    write(tmp_path / ".aws" / "credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = B\n")
    assert plan_stage.find_credentials({"HOME": str(tmp_path)}).startswith("profile 'default'")


def test_sso_profile_in_config_file(tmp_path):
    write(
        tmp_path / ".aws" / "config",
        "[profile booking]\nsso_session = corp\nsso_account_id = 1\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n",
    )
    assert (
        plan_stage.find_credentials({"HOME": str(tmp_path), "AWS_PROFILE": "booking"})
        == f"profile 'booking' in {tmp_path / '.aws' / 'config'}"
    )


def test_profile_that_is_only_a_region_does_not_count(tmp_path):
    write(tmp_path / ".aws" / "config", "[default]\nregion = eu-west-1\n")
    assert plan_stage.find_credentials({"HOME": str(tmp_path)}) is None


def test_named_profile_missing_from_files_does_not_count(tmp_path):
    write(tmp_path / ".aws" / "credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = B\n")
    assert plan_stage.find_credentials({"HOME": str(tmp_path), "AWS_PROFILE": "other"}) is None


@pytest.mark.parametrize("command", ["plan", "diff"])
def test_make_target_without_credentials_stops_with_a_clear_message(command, tmp_path):
    """The real make target, no credentials: exit 2 at once, the message says why and what to do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != plan_stage.EMULATOR_VARIABLE}
    # Keep HOME (npm's cache); point the shared AWS files at nothing.
    env.update(AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"))
    result = subprocess.run(
        ["make", "--no-print-directory", command, "STAGE=dev"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "error: no AWS credentials found, so `make " + command + "` cannot reach AWS for stage 'dev'" in result.stderr
    )
    assert "DIGITAL_BOOKING_EMULATOR_URL=start make " + command + " STAGE=dev" in result.stderr
    assert "terraform" not in result.stdout.lower()  # stopped before any terraform run


def test_missing_stage_is_an_error(capsys):
    assert plan_stage.main(["plan"]) == 2
    assert "make plan STAGE=<stage>" in capsys.readouterr().err


def test_emulator_mode_writes_the_override_with_local_state(tmp_path):
    extra = plan_stage.prepare(tmp_path, "dev", "http://127.0.0.1:5999")
    override = json.loads((tmp_path / emulator.OVERRIDE_FILE).read_text())
    [provider] = override["provider"]["aws"]
    assert set(provider["endpoints"][0].values()) == {"http://127.0.0.1:5999"}
    assert override["terraform"]["backend"]["local"]["path"].endswith("emulator-state/dev.tfstate")
    assert extra["AWS_ACCESS_KEY_ID"] == emulator.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
    assert extra["AWS_PROFILE"] == ""  # removed from terraform's environment: no real profile is used


def test_override_file_is_removed_when_not_using_the_emulator(tmp_path):
    (tmp_path / emulator.OVERRIDE_FILE).write_text("{}")
    assert plan_stage.prepare(tmp_path, "dev", None) == {}
    assert not (tmp_path / emulator.OVERRIDE_FILE).exists()


@pytest.mark.slow
def test_make_plan_against_the_emulator_prints_a_plan():
    """`DIGITAL_BOOKING_EMULATOR_URL=start make plan STAGE=dev`: real terraform plan of the dev stack against moto."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env[plan_stage.EMULATOR_VARIABLE] = "start"
    result = subprocess.run(
        ["make", "--no-print-directory", "plan", "STAGE=dev"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "started the emulator (moto)" in result.stdout
    assert re.search(r"Plan: \d+ to add, 0 to change, 0 to destroy\.", result.stdout)
    directory = plan_stage.stack_dir("dev")
    plan = json.loads((directory / "plan.json").read_text())
    assert {c["type"] for c in plan["resource_changes"]} >= {"aws_vpc", "aws_lb", "aws_autoscaling_group"}
    assert (directory / "plan-summary.md").read_text().startswith("<!-- digital-booking-plan:dev -->")


@pytest.mark.slow
def test_make_diff_against_the_emulator_runs_the_npm_cdktf_cli():
    """`make diff` installs the pinned cdktf CLI (npm ci) if needed and runs `cdktf diff` on the stage."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env[plan_stage.EMULATOR_VARIABLE] = "start"
    result = subprocess.run(
        ["make", "--no-print-directory", "diff", "STAGE=dev"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (PROJECT_DIR / "node_modules" / ".bin" / "cdktf").exists()
    assert re.search(r"digital-booking-dev\s.*Plan:.* \d+ to add, 0 to change, 0 to destroy", result.stdout, re.S)
