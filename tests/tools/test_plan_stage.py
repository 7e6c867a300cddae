"""``make plan`` / ``make diff``: the credential check that stops them cleanly, and the emulator override."""

from __future__ import annotations

import os
import subprocess

import pytest

from tools import plan_stage
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
    write(tmp_path / ".aws" / "config", "[profile booking]\nsso_session = corp\nsso_account_id = 1\n"
                                        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n")
    assert plan_stage.find_credentials({"HOME": str(tmp_path), "AWS_PROFILE": "booking"}) \
        == f"profile 'booking' in {tmp_path / '.aws' / 'config'}"


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
    result = subprocess.run(["make", "--no-print-directory", command, "STAGE=dev"], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: no AWS credentials found, so `make " + command + "` cannot reach AWS for stage 'dev'" \
        in result.stderr
    assert "DIGITAL_BOOKING_EMULATOR_URL=http://127.0.0.1:5000 make " + command + " STAGE=dev" in result.stderr
    assert "terraform" not in result.stdout.lower()  # stopped before any terraform run


def test_missing_stage_is_an_error(capsys):
    assert plan_stage.main(["plan"]) == 2
    assert "make plan STAGE=<stage>" in capsys.readouterr().err


def test_emulator_override_sends_every_service_to_the_endpoint_and_keeps_state_local():
    override = plan_stage.emulator_override("http://127.0.0.1:5000", "dev", plan_stage.EMULATOR_SERVICES)
    provider = override["provider"]["aws"][0]
    assert set(provider["endpoints"][0].values()) == {"http://127.0.0.1:5000"}
    assert {"ec2", "rds", "s3", "sts", "iam", "elasticache", "elbv2"} <= set(provider["endpoints"][0])
    assert provider["skip_credentials_validation"] is True and provider["access_key"] == "emulator"
    assert override["terraform"]["backend"]["local"]["path"].endswith("emulator-state/dev.tfstate")
    assert "s3" not in override["terraform"]["backend"]


def test_override_file_is_removed_when_not_using_the_emulator(tmp_path):
    (tmp_path / plan_stage.EMULATOR_OVERRIDE).write_text("{}")
    assert plan_stage.prepare(tmp_path, "dev", None) == {}
    assert not (tmp_path / plan_stage.EMULATOR_OVERRIDE).exists()
