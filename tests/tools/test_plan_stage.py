"""``make plan`` / ``make diff``: the credential check that stops them cleanly, and the emulator override."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cdktf_cli import readme_commands
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


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` (hidden ones included) with a hash of its content."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() or path.is_symlink()
    }


def synthesized(tmp_path: Path) -> Path:
    """A small cdktf.out with one stack, as synth writes it."""
    out = tmp_path / "cdktf.out"
    stack = out / "stacks" / "digital-booking-dev"
    stack.mkdir(parents=True)
    (out / "manifest.json").write_text('{"stacks": {}}')
    (stack / "cdk.tf.json").write_text('{"resource": {}}')
    return stack


def test_emulator_work_happens_in_a_copy_that_goes_on_every_exit(tmp_path):
    stack = synthesized(tmp_path)
    before = snapshot(tmp_path / "cdktf.out")
    with pytest.raises(RuntimeError, match="boom"):
        with plan_stage.emulator_copy(stack, "http://127.0.0.1:5999") as work:
            assert work != stack and work.name == stack.name and (work.parent.parent / "manifest.json").exists()
            override = json.loads((work / emulator.OVERRIDE_FILE).read_text())
            [provider] = override["provider"]["aws"]
            assert set(provider["endpoints"][0].values()) == {"http://127.0.0.1:5999"}
            state = Path(override["terraform"]["backend"]["local"]["path"])
            assert state.parent == work.parent.parent.parent  # local state inside the throwaway copy
            (work / ".terraform").mkdir()
            raise RuntimeError("boom")
    assert not work.exists() and not state.parent.exists()
    assert snapshot(tmp_path / "cdktf.out") == before


def test_emulator_runs_get_fake_keys_and_no_profile():
    extra = plan_stage.emulator_env("http://127.0.0.1:5999")
    assert extra["AWS_ACCESS_KEY_ID"] == emulator.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
    assert extra["AWS_PROFILE"] == ""  # removed from terraform's environment: no real profile is used


FAKE_TERRAFORM = """#!/bin/sh
case "$1" in
  init) echo "Terraform has been successfully initialized!"; exit 0 ;;
  plan) i=0; while [ $i -lt 4000 ]; do echo "  + resource line $i"; i=$((i+1)); done
        if [ -n "$FAIL_PLAN" ]; then echo "Error: no matching Route 53 Hosted Zone found"; exit 1; fi
        touch tfplan; exit 2 ;;
  show) cat "$PLAN_JSON"; exit 0 ;;
esac
exit 9
"""

PLAN_JSON = {
    "format_version": "1.2",
    "resource_changes": [
        {
            "address": "aws_db_instance.primary",
            "type": "aws_db_instance",
            "change": {
                "actions": ["delete", "create"],
                "before": {"engine": "postgres"},
                "after": {"engine": "mysql"},
                "replace_paths": [["engine"]],
            },
        },
        {"address": "aws_sns_topic.alarms", "type": "aws_sns_topic", "change": {"actions": ["create"], "after": {}}},
    ],
}


@pytest.fixture
def fake_terraform(tmp_path, monkeypatch):
    """A `terraform` on PATH that prints 4,000 plan lines (and fails the plan when FAIL_PLAN is set)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text(FAKE_TERRAFORM)
    (bin_dir / "terraform").chmod(0o755)
    (tmp_path / "plan.json").write_text(json.dumps(PLAN_JSON))
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("PLAN_JSON", str(tmp_path / "plan.json"))
    return tmp_path


def test_make_plan_prints_a_summary_and_keeps_the_full_text_in_a_file(fake_terraform, capsys):
    out = fake_terraform / "out"
    assert plan_stage.run_plan(fake_terraform, "dev", {}, out, "AWS") == 0
    printed = capsys.readouterr().out
    assert len(printed.splitlines()) <= 8, printed
    assert "Plan: 2 to add, 0 to change, 1 to destroy (1 of them replaced" in printed
    assert "!! STATEFUL REPLACE: aws_db_instance.primary (database, forced by engine)" in printed
    assert f"full plan: {out / 'plan.txt'} (4000 lines)" in printed
    assert f"comment:   {out / 'plan-summary.md'}" in printed
    assert len((out / "plan.txt").read_text().splitlines()) == 4000
    assert json.loads((out / "plan.json").read_text()) == PLAN_JSON
    assert (out / "plan-summary.md").read_text().startswith("<!-- digital-booking-plan:dev -->")


def test_a_failed_plan_leaves_no_plan_file_behind(fake_terraform, monkeypatch, capsys):
    """Files of an earlier plan are removed first: nothing stale to apply or to read as this plan."""
    out = fake_terraform / "out"
    out.mkdir()
    for name in plan_stage.PLAN_FILES:
        (out / name).write_text("from an earlier plan")
    monkeypatch.setenv("FAIL_PLAN", "1")
    assert plan_stage.run_plan(out, "dev", {}, out, "AWS") == 1
    assert sorted(p.name for p in out.iterdir()) == ["plan.txt"]
    printed = capsys.readouterr()
    assert "error: terraform plan failed:\nError: no matching Route 53 Hosted Zone found" in printed.err
    assert f"(full output: {out / 'plan.txt'})" in printed.err
    assert len(printed.out.splitlines()) == 1


@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:1"], ids=["aws", "emulator"])
def test_a_failed_synth_leaves_no_plan_file_behind(tmp_path, monkeypatch, endpoint):
    """A stage file the loader refuses stops `make plan` at synth: the previous plan's files are gone
    already, so none is left to apply or to read as this plan."""
    out = tmp_path / "stage"
    out.mkdir()
    for name in plan_stage.PLAN_FILES:
        (out / name).write_text("from an earlier plan")
    monkeypatch.setattr(plan_stage, "plans_dir", lambda stage, endpoint: out)

    def refused(stage):
        raise SystemExit(1)

    monkeypatch.setattr(plan_stage, "synth", refused)
    with pytest.raises(SystemExit):
        plan_stage.plan("dev", endpoint)
    assert list(out.iterdir()) == []


def make_target(command: str, stage: str, endpoint: str = "start", timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env[plan_stage.EMULATOR_VARIABLE] = endpoint
    return subprocess.run(
        ["make", "--no-print-directory", command, f"STAGE={stage}"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def synth_stage(stage: str) -> dict[str, str]:
    """``make synth STAGE=<stage>``, and a snapshot of what it wrote for the stage."""
    subprocess.run(
        ["make", "--no-print-directory", "synth", f"STAGE={stage}"],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return snapshot(plan_stage.stack_dir(stage))


@pytest.mark.slow
@pytest.mark.emulator
def test_make_plan_against_the_emulator_prints_a_summary_and_leaves_the_stack_as_synthesized():
    """`DIGITAL_BOOKING_EMULATOR_URL=start make plan STAGE=dev`: real terraform plan of the dev stack against moto."""
    synthesized_files = synth_stage("dev")
    assert set(synthesized_files) == {"cdk.tf.json"}
    result = make_target("plan", "dev")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "started the emulator (moto)" in result.stdout
    assert re.search(r"==> Plan: \d+ to add, 0 to change, 0 to destroy\.", result.stdout)
    assert len(result.stdout.splitlines()) < 30, result.stdout  # the summary, not the plan
    assert snapshot(plan_stage.stack_dir("dev")) == synthesized_files  # no override, .terraform, plan files
    plans = plan_stage.plans_dir("dev", "start")
    assert f"full plan: {plans.relative_to(PROJECT_DIR)}/plan.txt" in result.stdout
    assert "Terraform will perform the following actions" in (plans / "plan.txt").read_text()
    plan = json.loads((plans / "plan.json").read_text())
    assert {c["type"] for c in plan["resource_changes"]} >= {"aws_vpc", "aws_lb", "aws_autoscaling_group"}
    assert (plans / "plan-summary.md").read_text().startswith("<!-- digital-booking-plan:dev -->")
    assert not (plans / "tfplan").exists()  # planned against a throwaway emulator: nothing to apply

    # The README's lines that render the comment again run as written, from the project root
    # (the AWS one reads the stage directory's plan.json, borrowed here from the emulator plan).
    borrowed = plan_stage.stack_dir("dev") / "plan.json"
    shutil.copy2(plans / "plan.json", borrowed)
    try:
        for command in readme_commands("To render it again from the project root"):
            rendered = subprocess.run(
                ["bash", "-c", command], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
            )
            assert rendered.returncode == 0, command + rendered.stderr
            assert rendered.stdout.startswith("<!-- digital-booking-plan:dev -->"), command
    finally:
        borrowed.unlink()


@pytest.mark.slow
@pytest.mark.emulator
def test_make_plan_prod_against_the_emulator_creates_its_zone_and_plans_in_full():
    """prod looks up the public zone of its domain; the emulator gets it first, so the plan is complete."""
    synthesized_files = synth_stage("prod")
    result = make_target("plan", "prod")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "==> emulator: created the public hosted zone example.com" in result.stdout
    plan = json.loads((plan_stage.plans_dir("prod", "start") / "plan.json").read_text())
    planned = {c["address"] for c in plan["resource_changes"] if c["change"]["actions"] == ["create"]}
    document = json.loads((plan_stage.stack_dir("prod") / "cdk.tf.json").read_text())
    every = {f"{t}.{n}" for t, items in document["resource"].items() for n in items}
    assert every == {a.split("[")[0] for a in planned}  # every resource of prod, none missing
    assert snapshot(plan_stage.stack_dir("prod")) == synthesized_files


@pytest.mark.slow
@pytest.mark.emulator
def test_make_diff_against_the_emulator_runs_the_npm_cdktf_cli():
    """`make diff` installs the pinned cdktf CLI (npm ci) if needed and runs `cdktf diff` on the stage,
    in a throwaway copy: the stack directory is left as synth wrote it."""
    synthesized_files = synth_stage("dev")
    result = make_target("diff", "dev")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (PROJECT_DIR / "node_modules" / ".bin" / "cdktf").exists()
    assert re.search(r"digital-booking-dev\s.*Plan:.* \d+ to add, 0 to change, 0 to destroy", result.stdout, re.S)
    assert snapshot(plan_stage.stack_dir("dev")) == synthesized_files


@pytest.mark.slow
@pytest.mark.emulator
def test_ctrl_c_during_an_emulator_plan_leaves_nothing_behind(tmp_path):
    synthesized_files = synth_stage("dev")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({plan_stage.EMULATOR_VARIABLE: "start", "TMPDIR": str(tmp_path)})
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.plan_stage", "plan", "dev"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        for line in process.stdout:
            if "==> terraform init + plan" in line:
                break
        time.sleep(3)  # terraform is running in the copy
        assert list(tmp_path.glob("digital-booking-emulator-*")), "the throwaway copy lives in TMPDIR"
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "interrupted: plan of stage 'dev' stopped" in err and "Traceback" not in err
    # The copy is gone (terraform's own plugin sockets, `plugin<n>`, may stay in TMPDIR after a SIGINT).
    assert not list(tmp_path.glob("digital-booking-emulator-*"))
    assert snapshot(plan_stage.stack_dir("dev")) == synthesized_files
