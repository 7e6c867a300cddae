"""The plan summary on REAL plans: terraform 1.11 + hashicorp/aws 5.100 against the emulator (moto).

A small configuration (a KMS-encrypted PostgreSQL instance, a bucket, a security group, a log
group) is applied to moto; then a copy of it is changed the way a careless pull request might:
the database engine switched from PostgreSQL to MySQL (forces replacement; in provider 5.x a
new ``identifier`` is an in-place rename, not a replacement), the bucket removed, the security group's
description changed (stateless replacement), the log retention changed (update), a topic added.
``terraform show -json`` of that plan is what the summary is tested on, and what
``make plan`` / the workflow feed it. The plan JSON is generated here, never committed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tools import emulator, plan_summary

pytestmark = [pytest.mark.slow, pytest.mark.emulator]

CONFIG = {
    "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
    "provider": {"aws": [{"region": "eu-west-1"}]},
    "resource": {
        "aws_kms_key": {
            "data": {"description": "database storage", "deletion_window_in_days": 7, "enable_key_rotation": True}
        },
        "aws_db_instance": {
            "database": {
                "identifier": "booking-db",
                "engine": "postgres",
                "engine_version": "16.3",
                "instance_class": "db.t4g.micro",
                "allocated_storage": 20,
                "storage_type": "gp3",
                "username": "booking_admin",
                "password": "emulator-only-not-a-secret",
                "storage_encrypted": True,
                "kms_key_id": "${aws_kms_key.data.arn}",
                "skip_final_snapshot": True,
                "publicly_accessible": False,
            }
        },
        "aws_s3_bucket": {"assets": {"bucket": "booking-plan-summary-assets"}},
        "aws_security_group": {"app": {"name": "booking-app", "description": "app servers"}},
        "aws_cloudwatch_log_group": {"app": {"name": "/booking/app", "retention_in_days": 30}},
    },
}


def changed(config: dict) -> dict:
    """What the pull request does to the configuration."""
    new = copy.deepcopy(config)
    resources = new["resource"]
    resources["aws_db_instance"]["database"].update(engine="mysql", engine_version="8.0")  # forces replacement
    del resources["aws_s3_bucket"]  # the bucket goes
    resources["aws_security_group"]["app"]["description"] = "app servers (renamed)"  # forces replacement
    resources["aws_cloudwatch_log_group"]["app"]["retention_in_days"] = 90  # in place
    resources["aws_sns_topic"] = {"alarms": {"name": "booking-alarms"}}  # new
    return new


def plan_json(work: Path, url: str) -> dict:
    emulator.plan(work, url, ["-out=tfplan"])
    return json.loads(emulator.terraform(work, ["show", "-json", "tfplan"], url).stdout)


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, dict]:
    """``unchanged``: plan right after apply; ``changed``: the pull request's plan. Both real."""
    work = tmp_path_factory.mktemp("plan-summary-real")
    with emulator.MotoServer() as moto:
        (work / "main.tf.json").write_text(json.dumps(CONFIG, indent=1))
        emulator.write_override(work, moto.url, state_path=work / "terraform.tfstate")
        emulator.init(work, moto.url)
        emulator.apply(work, moto.url)
        unchanged = plan_json(work, moto.url)
        (work / "main.tf.json").write_text(json.dumps(changed(CONFIG), indent=1))
        return {"unchanged": unchanged, "changed": plan_json(work, moto.url)}


@pytest.fixture(scope="module")
def summary(plans) -> plan_summary.PlanSummary:
    return plan_summary.summarize(plans["changed"], "dev")


def test_plan_is_real_terraform_output(plans):
    assert plans["changed"]["terraform_version"].startswith("1.")
    assert {c["address"] for c in plans["changed"]["resource_changes"]} >= {
        "aws_db_instance.database",
        "aws_s3_bucket.assets",
        "aws_sns_topic.alarms",
    }


def test_counts_match_what_terraform_planned(summary):
    # replace db + sg (2 add, 2 destroy), delete bucket, update log group, create topic
    assert (summary.to_add, summary.to_change, summary.to_destroy, summary.to_replace) == (3, 1, 3, 2)


def test_database_replacement_is_flagged_at_the_very_top(summary):
    lines = summary.render().splitlines()
    assert lines[1] == "## Terraform plan: `dev`"
    assert lines[3] == "> [!CAUTION]"
    flagged = [line for line in lines if line.startswith("> - ")]
    assert flagged[0] == "> - **REPLACE** `aws_db_instance.database` (database): forces replacement: `engine`"
    assert "> - **DELETE** `aws_s3_bucket.assets` (S3 bucket): removed from the code" in flagged
    assert len(flagged) == 2  # the security group's replacement is not a data loss
    assert lines.index(flagged[-1]) < next(i for i, line in enumerate(lines) if line.startswith("**Plan:**"))


def test_destroyed_and_replaced_come_before_other_changes(summary):
    comment = summary.render()
    table = comment[comment.index("### Destroyed or replaced") : comment.index("<details>")]
    assert [row.split("`")[1] for row in table.splitlines() if row.startswith("| ") and "`" in row] == [
        "aws_db_instance.database",
        "aws_s3_bucket.assets",
        "aws_security_group.app",
    ]
    assert (
        comment.index("### Destroyed or replaced") < comment.index("Updated in place: 1") < comment.index("Created: 1")
    )


def test_stateless_replacement_names_the_attribute(summary):
    change = next(c for c in summary.changes if c.address == "aws_security_group.app")
    assert change.action == "replace" and change.replace_paths == ("description",)
    assert not change.stateful_loss


def test_update_names_the_changed_attribute(summary):
    assert "- `~` `aws_cloudwatch_log_group.app`: `retention_in_days`" in summary.render()


def test_plan_after_apply_has_no_changes(plans):
    comment = plan_summary.summarize(plans["unchanged"], "dev").render()
    assert "**No changes.**" in comment and "[!CAUTION]" not in comment


def test_cli_on_the_real_plan_fails_on_stateful_loss(plans, tmp_path, capsys):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plans["changed"]))
    assert plan_summary.main([str(path), "--stage", "dev", "--fail-on-stateful-loss"]) == 3
    assert "`aws_db_instance.database` (database)" in capsys.readouterr().out
