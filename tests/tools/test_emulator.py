"""tools/emulator.py: the moto server lifecycle and the override that sends terraform to it."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

import pytest

from environments import load_stage
from tests.conftest import STAGES
from tools import emulator


def test_every_resource_type_of_every_stack_goes_to_the_emulator(stacks) -> None:
    """A type whose service has no endpoint override would call real AWS from the sandbox."""
    types = {
        t
        for s in stacks.values()
        for section in ("resource", "data")
        for t in s.json.get(section, {})
        if t.startswith("aws_")
    }
    unmapped = sorted(t for t in types if emulator.service_of(t) not in emulator.SERVICES)
    assert not unmapped, f"add these to tools/emulator.py RESOURCE_SERVICES / SERVICES: {unmapped}"


def test_service_of_picks_the_longest_prefix() -> None:
    assert emulator.service_of("aws_cloudwatch_log_group") == "logs"
    assert emulator.service_of("aws_cloudwatch_metric_alarm") == "cloudwatch"
    assert emulator.service_of("aws_lb_listener") == "elbv2"
    assert emulator.service_of("aws_elb_service_account") == "elb"
    assert emulator.service_of("aws_nonexistent_thing") is None


def test_account_level_s3_settings_and_the_security_services_have_their_own_endpoints() -> None:
    """The S3 account public access block is an S3 Control call; the "s3" prefix alone would send it to S3."""
    assert emulator.service_of("aws_s3_account_public_access_block") == "s3control"
    assert emulator.service_of("aws_s3_bucket_public_access_block") == "s3"
    assert emulator.service_of("aws_config_delivery_channel") == "configservice"
    assert emulator.service_of("aws_guardduty_detector_feature") == "guardduty"
    assert emulator.service_of("aws_securityhub_standards_subscription") == "securityhub"
    assert emulator.service_of("aws_accessanalyzer_analyzer") == "accessanalyzer"


def test_provider_override_uses_fake_credentials_and_skips_aws_lookups() -> None:
    [provider] = emulator.override_document("http://127.0.0.1:1234")["provider"]["aws"]
    assert provider["access_key"] == "testing" and provider["secret_key"] == "testing"
    assert provider["skip_credentials_validation"] is True
    assert provider["skip_metadata_api_check"] == "true" and provider["s3_use_path_style"] is True
    assert provider["endpoints"] == [{service: "http://127.0.0.1:1234" for service in emulator.SERVICES}]


@pytest.mark.parametrize("stage", STAGES)
def test_every_aws_provider_of_a_stage_is_sent_to_the_emulator(stacks, stage, tmp_path: Path) -> None:
    """An aliased provider (the us-east-1 ``edge`` one) the override missed would call real AWS."""
    stack_dir = tmp_path / stage
    stack_dir.mkdir()
    (stack_dir / "cdk.tf.json").write_text(json.dumps(stacks[f"digital-booking-{stage}"].json))
    emulator.write_override(stack_dir, "http://127.0.0.1:1234")
    overridden = json.loads((stack_dir / emulator.OVERRIDE_FILE).read_text())["provider"]["aws"]
    declared = stacks[f"digital-booking-{stage}"].json["provider"]["aws"]
    assert sorted(p.get("alias", "") for p in overridden) == sorted(p.get("alias", "") for p in declared)
    assert {"", "edge"} <= {p.get("alias", "") for p in overridden}
    if load_stage(stage).stage.dr_region is not None:  # the disaster-recovery region's provider too
        assert "dr" in {p.get("alias", "") for p in overridden}
    assert all(p["endpoints"] == [{s: "http://127.0.0.1:1234" for s in emulator.SERVICES}] for p in overridden)


def test_override_lets_the_provider_run_in_the_emulators_account_only() -> None:
    """A stage's allow list names its real account; against the emulator the provider must read its
    account from STS (an unread account id is "" and fails any allow list) and allow only moto's."""
    [provider] = emulator.override_document("http://127.0.0.1:1234")["provider"]["aws"]
    assert provider["skip_requesting_account_id"] is False
    assert provider["allowed_account_ids"] == [emulator.ACCOUNT_ID] == ["123456789012"]


def test_override_replaces_the_s3_backend_with_a_local_file(tmp_path: Path) -> None:
    document = emulator.override_document("http://x", state_path=tmp_path / "s.tfstate")
    assert document["terraform"]["backend"] == {"local": {"path": str(tmp_path / "s.tfstate")}}


def test_s3_backend_override_keeps_bucket_key_table_and_lockfile(dev) -> None:
    backend = emulator.s3_backend_override(dev.backend()["s3"], "http://127.0.0.1:1234")
    for key in ("bucket", "key", "region", "dynamodb_table", "use_lockfile", "encrypt"):
        assert backend[key] == dev.backend()["s3"][key]
    assert backend["endpoints"]["s3"] == backend["endpoints"]["dynamodb"] == "http://127.0.0.1:1234"
    assert backend["use_path_style"] is True


def test_copy_stack_leaves_terraform_working_files_behind(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / ".terraform").mkdir(parents=True)
    (source / "cdk.tf.json").write_text("{}")
    (source / "terraform.tfstate").write_text("{}")
    copied = emulator.copy_stack(source, tmp_path / "dest")
    assert sorted(p.name for p in copied.iterdir()) == ["cdk.tf.json"]


@pytest.mark.slow
@pytest.mark.emulator
def test_moto_server_starts_answers_and_stops() -> None:
    with emulator.MotoServer() as moto:
        with urllib.request.urlopen(f"{moto.url}/moto-api/data.json", timeout=5) as response:
            assert response.status == 200
        process = moto.process
    assert process is not None and process.poll() is not None  # stopped on exit
    with socket.socket() as sock:  # and the port is free again
        sock.bind((emulator.HOST, moto.port))


@pytest.mark.slow
@pytest.mark.emulator
def test_moto_server_is_stopped_when_the_body_fails() -> None:
    with pytest.raises(RuntimeError):
        with emulator.MotoServer() as moto:
            process = moto.process
            raise RuntimeError("boom")
    assert process.poll() is not None


@pytest.mark.slow
@pytest.mark.emulator
def test_a_stage_refuses_to_run_in_an_account_that_is_not_its_own(synth_dir: Path, tmp_path: Path) -> None:
    """The wrong-account guard, run: the dev stack's provider, with credentials of another account (the
    emulator's, 123456789012, is not dev's), refuses before reading or changing anything. AWS provider
    docs, allowed_account_ids: "List of allowed AWS account IDs to prevent you from mistakenly using an
    incorrect one"."""
    work = emulator.copy_stack(synth_dir / "stacks" / "digital-booking-dev", tmp_path / "dev")
    providers = json.loads((work / "cdk.tf.json").read_text())["provider"]["aws"]
    assert all(p["allowed_account_ids"] != [emulator.ACCOUNT_ID] for p in providers)
    with emulator.MotoServer() as moto:
        emulator.write_override(work, moto.url, state_path=work / "terraform.tfstate")
        override = json.loads((work / emulator.OVERRIDE_FILE).read_text())
        for provider in override["provider"]["aws"]:
            del provider["allowed_account_ids"]  # keep the stage's own allow list
        (work / emulator.OVERRIDE_FILE).write_text(json.dumps(override))
        emulator.init(work, moto.url)
        result = emulator.terraform(work, ["plan", "-input=false", "-no-color", "-refresh=true"], moto.url, check=False)
    assert result.returncode == 1
    assert "AWS account ID not allowed: 123456789012" in result.stderr
    assert not (work / "terraform.tfstate").exists()


@pytest.mark.slow
def test_dev_stack_with_the_override_validates(synth_dir: Path, tmp_path: Path) -> None:
    """Every endpoint name is one the provider accepts, and the merged configuration is valid."""
    work = emulator.copy_stack(synth_dir / "stacks" / "digital-booking-dev", tmp_path / "dev")
    emulator.write_override(work, "http://127.0.0.1:1", state_path=work / "terraform.tfstate")
    emulator.terraform(work, ["init", "-input=false", "-no-color"], "http://127.0.0.1:1")
    result = emulator.terraform(work, ["validate", "-json"], "http://127.0.0.1:1")
    assert json.loads(result.stdout)["valid"] is True
