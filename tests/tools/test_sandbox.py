"""``make sandbox`` (tools/sandbox.py): what is left out of the emulator run, and the run itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import sandbox

DOCUMENT = {
    "resource": {
        "aws_elasticache_replication_group": {"cache": {"replication_group_id": "x"}},
        "aws_cloudwatch_metric_alarm": {
            "cache-cpu": {"dimensions": {"ReplicationGroupId": "${aws_elasticache_replication_group.cache.id}"}},
            "app-cpu": {"alarm_name": "app"},
        },
        "aws_cloudwatch_dashboard": {
            "main": {"dashboard_body": "${jsonencode({x = aws_cloudwatch_metric_alarm.cache-cpu.arn})}"}
        },
        "aws_security_group": {"cache": {"name": "cache"}},
        "terraform_data": {"after": {"depends_on": ["aws_cloudwatch_dashboard.main"]}},
    },
    "output": {
        "cache_endpoint": {"value": "${aws_elasticache_replication_group.cache.primary_endpoint_address}"},
        "sg": {"value": "${aws_security_group.cache.id}"},
    },
}


def test_unsupported_list_is_short_and_explained() -> None:
    assert 0 < len(sandbox.UNSUPPORTED) <= 7
    assert all(t.startswith("aws_") and "moto" in reason for t, reason in sandbox.UNSUPPORTED.items())


def test_replication_groups_are_left_out() -> None:
    assert "aws_elasticache_replication_group" in sandbox.UNSUPPORTED


def test_every_left_out_type_is_in_some_stage(stacks) -> None:
    """An entry no stack uses any more is stale: remove it (the list must stay short)."""
    used = {t for s in stacks.values() for t in s.json.get("resource", {})}
    assert set(sandbox.UNSUPPORTED) <= used


def test_closure_follows_references_transitively() -> None:
    excluded = sandbox.exclusion_closure(DOCUMENT)
    assert excluded.addresses == [
        "aws_cloudwatch_dashboard.main",
        "aws_cloudwatch_metric_alarm.cache-cpu",
        "aws_elasticache_replication_group.cache",
        "output.cache_endpoint",
        "terraform_data.after",
    ]
    assert "moto" in excluded.reasons["aws_elasticache_replication_group.cache"]
    assert (
        excluded.reasons["aws_cloudwatch_dashboard.main"]
        == "refers to aws_cloudwatch_metric_alarm.cache-cpu, which is left out"
    )


def test_a_detachable_attribute_is_dropped_instead_of_the_resource(dev) -> None:
    """The database stays in the sandbox without its audit option group (moto has no MySQL 8.4 ones)."""
    excluded = sandbox.exclusion_closure(dev.json)
    [group] = [a for a in excluded.addresses if a.startswith("aws_db_option_group.")]
    instances = [f"aws_db_instance.{n}" for n in dev.resources("aws_db_instance")]
    assert instances and all(excluded.detached[i] == ["option_group_name"] for i in instances)
    assert not set(instances) & set(excluded.addresses)
    pruned = sandbox.prune(dev.json, excluded)
    assert all("option_group_name" not in i for i in pruned["resource"]["aws_db_instance"].values())
    assert all("option_group_name" in i for i in dev.resources("aws_db_instance").values())  # input untouched
    assert group


def test_prune_keeps_everything_else() -> None:
    pruned = sandbox.prune(DOCUMENT, sandbox.exclusion_closure(DOCUMENT))
    assert sandbox.managed_addresses(pruned) == ["aws_cloudwatch_metric_alarm.app-cpu", "aws_security_group.cache"]
    assert list(pruned["output"]) == ["sg"]
    assert sandbox.managed_addresses(DOCUMENT) != sandbox.managed_addresses(pruned)  # the input is not modified


def test_references_read_data_sources_and_depends_on() -> None:
    assert sandbox.references(
        {"a": "${data.aws_partition.p.partition}:${aws_vpc.v.id}", "depends_on": ["aws_s3_bucket.b"]}
    ) == {"data.aws_partition.p", "aws_vpc.v", "aws_s3_bucket.b"}


def test_dev_leaves_out_only_unsupported_resources_and_their_dependents(dev) -> None:
    excluded = sandbox.exclusion_closure(dev.json)
    for address, reason in excluded.reasons.items():
        rtype = address.split(".")[0]
        assert rtype in sandbox.UNSUPPORTED or reason.startswith("refers to "), address
    kept = sandbox.managed_addresses(sandbox.prune(dev.json, excluded))
    assert len(kept) >= 0.8 * len(sandbox.managed_addresses(dev.json)), "the sandbox must stay the platform"


@pytest.mark.slow
def test_sandbox_deploys_replans_and_destroys_dev(synth_dir: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    report = sandbox.run_sandbox(synth_dir / "stacks" / "digital-booking-dev", tmp_path / "work", log=lines.append)
    log = "\n".join(lines)
    assert report.expected and not report.missing, log
    assert report.created and set(report.expected) <= set(report.created)
    assert "vpc_id" in report.outputs and report.outputs["vpc_id"].startswith("vpc-")
    assert not report.left_after_destroy, log
    assert "==> terraform destroy" in log and "==> emulator stopped" in log
    assert ("drift: none" in log) or ("drift: the re-plan would change" in log)


TARGET_GROUP_GONE = (  # from a real `make sandbox` run (2026-11-29)
    "Error: deleting ELBv2 Target Group (arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/"
    "digital-booking-dev-app/4180ced0acce7cab): operation error Elastic Load Balancing v2: DeleteTargetGroup, "
    "https response error StatusCode: 400, RequestID: gIc6VjA0, api error TargetGroupNotFound: One or more target "
    "groups not found\n"
)
RULE_GONE = (
    "Error: deleting VPC Security Group Rule (sgr-0a1b2c3d4e5f60718): operation error EC2: "
    "RevokeSecurityGroupEgress, https response error StatusCode: 400, RequestID: 1f2e, api error "
    "InvalidPermission.NotFound: The specified rule does not exist in this security group.\n"
)
STILL_IN_USE = (
    "Error: deleting EC2 Subnet (subnet-0123456789abcdef0): operation error EC2: DeleteSubnet, https response "
    "error StatusCode: 400, RequestID: 9c8d, api error DependencyViolation: The subnet has dependencies\n"
)


def test_deletes_answered_not_found_name_the_resources_already_gone() -> None:
    assert sandbox.resources_already_gone(TARGET_GROUP_GONE + "\n" + RULE_GONE) == {
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/digital-booking-dev-app/4180ced0acce7cab",
        "sgr-0a1b2c3d4e5f60718",
    }


def test_other_delete_failures_are_not_taken_for_gone_resources() -> None:
    # The subnet's error must not borrow the NotFound of the error after it.
    assert sandbox.resources_already_gone(STILL_IN_USE + "\n" + RULE_GONE) == {"sgr-0a1b2c3d4e5f60718"}
    assert sandbox.resources_already_gone(STILL_IN_USE) == set()
