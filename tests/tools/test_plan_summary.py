"""The plan summary (PR comment) from ``terraform show -json`` documents.

These build small plan documents in terraform's own format (format_version 1.2: ``resource_changes``
with ``change.actions``, ``replace_paths``, ``action_reason``); ``test_plan_summary_real.py`` runs
the same code on plans terraform really produced against the emulator.
"""

from __future__ import annotations

import json

import pytest

from tools import plan_summary
from tools.plan_summary import summarize


def change(
    address: str,
    *actions: str,
    replace_paths=None,
    reason=None,
    before=None,
    after=None,
    previous_address=None,
    mode="managed",
) -> dict:
    rtype, name = address.split(".", 1)
    entry = {
        "address": address,
        "mode": mode,
        "type": rtype,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": list(actions), "before": before, "after": after},
    }
    if replace_paths:
        entry["change"]["replace_paths"] = replace_paths
    if reason:
        entry["action_reason"] = reason
    if previous_address:
        entry["previous_address"] = previous_address
    return entry


def plan(*changes: dict, outputs=None, errored=False) -> dict:
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": list(changes),
        "output_changes": outputs or {},
        "errored": errored,
    }


MIXED = plan(
    change("aws_vpc.network_vpc_1", "no-op"),
    change("aws_lb.alb_2", "update"),
    change(
        "aws_security_group.app_3", "create", "delete", replace_paths=[["name"]], reason="replace_because_cannot_update"
    ),
    change(
        "aws_db_instance.database_4",
        "delete",
        "create",
        replace_paths=[["identifier"], ["engine"]],
        reason="replace_because_cannot_update",
    ),
    change("aws_iam_role.old_5", "delete", reason="delete_because_no_resource_config"),
    change("aws_subnet.new_6", "create"),
    change("aws_subnet.new_7", "create"),
    change("data.aws_ami.al2023", "read", mode="data"),
)


def test_counts_match_terraform_plan_line():
    summary = summarize(MIXED, "dev")
    # terraform prints "Plan: 4 to add, 1 to change, 3 to destroy." for this plan.
    assert (summary.to_add, summary.to_change, summary.to_destroy, summary.to_replace) == (4, 1, 3, 2)
    assert "**Plan:** 4 to add, 1 to change, 3 to destroy (2 of them replaced" in summary.render()


def test_both_replace_orders_count_as_replace():
    summary = summarize(MIXED, "dev")
    actions = {c.address: c.action for c in summary.changes}
    assert actions["aws_security_group.app_3"] == "replace"  # create_before_destroy
    assert actions["aws_db_instance.database_4"] == "replace"  # delete then create


def test_data_sources_are_not_counted():
    summary = summarize(MIXED, "dev")
    assert all(not c.address.startswith("data.") for c in summary.changes)


def test_database_replacement_is_flagged_at_the_very_top():
    comment = summarize(MIXED, "dev").render()
    lines = comment.splitlines()
    assert lines[0] == "<!-- digital-booking-plan:dev -->"
    caution = lines.index("> [!CAUTION]")
    assert caution < next(i for i, line in enumerate(lines) if line.startswith("**Plan:**"))
    flagged = [line for line in lines if line.startswith("> - ")]
    assert flagged == [
        "> - **REPLACE** `aws_db_instance.database_4` (database): forces replacement: `identifier`, `engine`"
    ]


def test_destroyed_and_replaced_are_listed_before_other_changes():
    comment = summarize(MIXED, "dev").render()
    destroyed = comment.index("### Destroyed or replaced")
    assert destroyed < comment.index("Updated in place") < comment.index("Created: 2")
    table = comment[destroyed : comment.index("Updated in place")]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    # the stateful loss first, then the others by address
    assert [row.split("`")[1] for row in rows] == [
        "aws_db_instance.database_4",
        "aws_iam_role.old_5",
        "aws_security_group.app_3",
    ]
    assert "removed from the code" in rows[1]
    assert "forces replacement: `name`" in rows[2]


@pytest.mark.parametrize(
    "resource_type",
    [
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_s3_bucket",
        "aws_elasticache_replication_group",
        "aws_dynamodb_table",
        "aws_kms_key",
        "aws_efs_file_system",
    ],
)
def test_every_stateful_type_deleted_is_flagged(resource_type):
    summary = summarize(plan(change(f"{resource_type}.x", "delete")), "prod")
    assert [c.address for c in summary.stateful_losses] == [f"{resource_type}.x"]
    assert "> [!CAUTION]" in summary.render()


def test_updates_name_the_changed_attributes_not_their_values():
    doc = plan(
        change(
            "aws_db_instance.db",
            "update",
            before={"allocated_storage": 20, "password": "s3cr3t-old", "tags": {}, "tags_all": {}},
            after={"allocated_storage": 50, "password": "s3cr3t-new", "tags": {"a": "b"}, "tags_all": {"a": "b"}},
        )
    )
    comment = summarize(doc, "prod").render()
    assert "`aws_db_instance.db`: `allocated_storage`, `password`, `tags`\n" in comment
    assert "s3cr3t" not in comment


def test_stateless_replacement_is_not_flagged():
    comment = summarize(plan(change("aws_launch_template.lt", "delete", "create")), "dev").render()
    assert "[!CAUTION]" not in comment
    assert "### Destroyed or replaced" in comment


def test_updating_a_database_in_place_is_not_a_loss():
    summary = summarize(plan(change("aws_db_instance.db", "update")), "prod")
    assert summary.stateful_losses == []


def test_state_store_is_named_as_such_by_address():
    summary = summarize(plan(change("aws_s3_bucket.state-store_state-bucket_4E0A66D9", "delete")), "state")
    assert summary.stateful_losses[0].kind == "Terraform state store"
    assert "(Terraform state store)" in summary.render()


def test_state_store_is_recognised_by_bucket_name():
    doc = plan(change("aws_dynamodb_table.locks", "delete", before={"name": "digital-booking-terraform-locks"}))
    names = ["digital-booking-terraform-state", "digital-booking-terraform-locks"]
    summary = summarize(doc, "state", state_names=names)
    assert summary.stateful_losses[0].kind == "Terraform state store"


def test_no_changes():
    comment = summarize(plan(change("aws_vpc.v", "no-op")), "prod").render()
    assert "**No changes.**" in comment
    assert "[!CAUTION]" not in comment and "**Plan:**" not in comment


def test_output_only_changes_are_changes():
    comment = summarize(plan(outputs={"alb_dns_name": {"actions": ["create"]}}), "dev").render()
    assert "**Plan:** 0 to add, 0 to change, 0 to destroy." in comment
    assert "`alb_dns_name`" in comment


def test_moved_resources_are_listed():
    doc = plan(change("aws_vpc.new", "no-op", previous_address="aws_vpc.old"))
    comment = summarize(doc, "dev").render()
    assert "1 moved" in comment and "`aws_vpc.old` -> `aws_vpc.new`" in comment


def test_errored_plan_is_marked():
    assert "The plan errored" in summarize(plan(errored=True), "dev").render()


def test_long_lists_are_cut_below_github_comment_limit():
    doc = plan(*[change(f"aws_subnet.s{i}", "delete") for i in range(1500)])
    comment = summarize(doc, "dev").render()
    assert len(comment) < 65536
    assert "... and 1300 more" in comment


def test_rejects_something_that_is_not_a_plan():
    with pytest.raises(ValueError, match="not a terraform plan JSON"):
        summarize({"values": {}}, "dev")


def test_unknown_action_is_an_error():
    with pytest.raises(ValueError, match="unknown terraform plan actions"):
        summarize(plan(change("aws_vpc.v", "explode")), "dev")


def test_cli_writes_the_comment_and_can_fail_on_stateful_loss(tmp_path, capsys):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(MIXED))
    out = tmp_path / "comment.md"
    assert plan_summary.main([str(path), "--stage", "staging", "-o", str(out)]) == 0
    assert out.read_text().startswith("<!-- digital-booking-plan:staging -->\n## Terraform plan: `staging`")
    assert plan_summary.main([str(path), "--stage", "staging", "--fail-on-stateful-loss"]) == 3
    assert "[!CAUTION]" in capsys.readouterr().out


def test_cli_reports_bad_input(tmp_path, capsys):
    path = tmp_path / "plan.json"
    path.write_text("not json")
    assert plan_summary.main([str(path), "--stage", "dev"]) == 2
    assert f"error: {path}" in capsys.readouterr().err


def test_failed_plan_comment_replaces_the_previous_one(tmp_path):
    out = tmp_path / "failed.md"
    assert plan_summary.main(["--stage", "prod", "--plan-failed", "https://ci/run/1", "-o", str(out)]) == 0
    comment = out.read_text()
    assert comment.startswith("<!-- digital-booking-plan:prod -->\n## Terraform plan: `prod`")
    assert "**The plan failed**" in comment and "(https://ci/run/1)" in comment


def test_cli_needs_a_plan_unless_the_plan_failed(capsys):
    with pytest.raises(SystemExit):
        plan_summary.main(["--stage", "dev"])
    assert "plan_json is required" in capsys.readouterr().err
