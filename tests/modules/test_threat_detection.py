"""Threat detection of every account and region: GuardDuty with the platform's protections, Security Hub
with both standards, AWS Config, IAM Access Analyzer, and findings of medium severity or above routed to
the security topic (rules evaluated on sample findings by tools/event_pattern.py)."""

from __future__ import annotations

import copy
import json

import pytest

from modules.threat_detection import GUARDDUTY_FINDINGS_PATTERN, SECURITY_HUB_FINDINGS_PATTERN
from tests.conftest import SECURITY_STACK_PLACES
from tests.tf_json import refers_to
from tools.event_pattern import matches

# -- GuardDuty ----------------------------------------------------------------------------------------------


def test_guardduty_is_enabled_with_the_protections_that_apply(security_stack):
    """GuardDuty user guide / provider 5.100 detector features: S3 protection, EBS malware protection, RDS
    login activity, runtime monitoring with GuardDuty managing the EC2 agent (the platform has no EKS, ECS
    or Lambda, and RUNTIME_MONITORING excludes EKS_RUNTIME_MONITORING)."""
    (name, detector) = next(iter(security_stack.resources("aws_guardduty_detector").items()))
    assert detector["enable"] is True and detector["finding_publishing_frequency"] == "FIFTEEN_MINUTES"
    features = {f["name"]: f for f in security_stack.resources("aws_guardduty_detector_feature").values()}
    assert set(features) == {"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING"}
    assert all(
        f["status"] == "ENABLED" and refers_to(f["detector_id"], "aws_guardduty_detector", name)
        for f in features.values()
    )
    assert features["RUNTIME_MONITORING"]["additional_configuration"] == [
        {"name": "EC2_AGENT_MANAGEMENT", "status": "ENABLED"}
    ]
    assert "datasources" not in detector  # the older data sources block is not mixed with features


# -- Security Hub -------------------------------------------------------------------------------------------


def test_security_hub_runs_exactly_the_two_standards(security_stack):
    """Provider docs, aws_securityhub_standards_subscription: the standards' ARNs; the default standards
    are switched off so exactly these two are enabled and managed here."""
    (hub_name, hub) = next(iter(security_stack.resources("aws_securityhub_account").items()))
    assert hub["enable_default_standards"] is False and hub["control_finding_generator"] == "SECURITY_CONTROL"
    subscriptions = security_stack.resources("aws_securityhub_standards_subscription").values()
    arns = sorted(s["standards_arn"] for s in subscriptions)
    _, region = SECURITY_STACK_PLACES[security_stack.name]
    assert arns == [
        f"arn:${{data.aws_partition.partition.partition}}:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
        f"arn:${{data.aws_partition.partition.partition}}:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/1.4.0",
    ]
    assert all(s["depends_on"] == [f"aws_securityhub_account.{hub_name}"] for s in subscriptions)


# -- AWS Config ---------------------------------------------------------------------------------------------


def test_config_records_every_supported_type_and_delivers_to_its_own_bucket(security_stack):
    (recorder_name, recorder) = next(iter(security_stack.resources("aws_config_configuration_recorder").items()))
    group = recorder["recording_group"]
    account, region = SECURITY_STACK_PLACES[security_stack.name]
    # Global IAM types in the home region only, so they are not recorded twice.
    assert group["all_supported"] is True and group["include_global_resource_types"] is (region == account.home_region)
    (channel_name, channel) = next(iter(security_stack.resources("aws_config_delivery_channel").items()))
    [bucket_name] = [
        n for n in security_stack.resources("aws_s3_bucket") if refers_to(channel["s3_bucket_name"], "aws_s3_bucket", n)
    ]
    assert security_stack.resources("aws_s3_bucket")[bucket_name]["bucket"].startswith("digital-booking-config-")
    assert channel["depends_on"] == [f"aws_config_configuration_recorder.{recorder_name}"]
    (status,) = security_stack.resources("aws_config_configuration_recorder_status").values()
    assert status["is_enabled"] is True and status["depends_on"] == [f"aws_config_delivery_channel.{channel_name}"]


def test_config_records_with_its_service_linked_role(home_security_stack):
    """Security Hub control Config.1: "AWS Config should be enabled and use the service-linked role for
    resource recording"; AWS Config guide, "Using Service-Linked Roles for AWS Config": create it with the
    config.amazonaws.com service name."""
    (recorder,) = home_security_stack.resources("aws_config_configuration_recorder").values()
    [(name, role)] = home_security_stack.resources("aws_iam_service_linked_role").items()
    assert role["aws_service_name"] == "config.amazonaws.com"
    assert refers_to(recorder["role_arn"], "aws_iam_service_linked_role", name)


def test_config_delivers_as_its_service_principal_for_this_account_only(security_stack):
    """AWS Config guide, "Permissions for the Amazon S3 Bucket" and "Permissions for the KMS Key", the
    service-linked role sections: the role has no S3 or KMS access, Config delivers as config.amazonaws.com."""
    (channel,) = security_stack.resources("aws_config_delivery_channel").values()
    [bucket_name] = [
        n for n in security_stack.resources("aws_s3_bucket") if refers_to(channel["s3_bucket_name"], "aws_s3_bucket", n)
    ]
    [policy] = [
        p
        for p in security_stack.resources("aws_s3_bucket_policy").values()
        if refers_to(p["bucket"], "aws_s3_bucket", bucket_name)
    ]
    found = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert {k: found[k]["Action"] for k in ("ConfigChecksBucketAcl", "ConfigChecksBucketExists", "ConfigDelivers")} == {
        "ConfigChecksBucketAcl": "s3:GetBucketAcl",
        "ConfigChecksBucketExists": "s3:ListBucket",
        "ConfigDelivers": "s3:PutObject",
    }
    this_account = "${data.aws_caller_identity.account.account_id}"
    deliver = found["ConfigDelivers"]
    assert deliver["Principal"] == {"Service": "config.amazonaws.com"}
    assert deliver["Resource"].endswith(f"/AWSLogs/{this_account}/Config/*")
    assert deliver["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": this_account}
    }
    assert found["ConfigChecksBucketAcl"]["Condition"] == {"StringEquals": {"AWS:SourceAccount": this_account}}
    [key] = [
        k
        for n, k in security_stack.resources("aws_kms_key").items()
        if refers_to(channel["s3_kms_key_arn"], "aws_kms_key", n)
    ]
    statement = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}["ConfigEncryptsDeliveries"]
    assert statement["Principal"] == {"Service": "config.amazonaws.com"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": this_account}}


# -- IAM Access Analyzer ------------------------------------------------------------------------------------


def test_access_analyzer_watches_the_account(security_stack):
    (analyzer,) = security_stack.resources("aws_accessanalyzer_analyzer").values()
    assert analyzer["type"] == "ACCOUNT"


# -- findings to the security topic -------------------------------------------------------------------------


def guardduty_finding(severity: float, finding_type: str = "Recon:EC2/PortProbeUnprotectedPort") -> dict:
    """A "GuardDuty Finding" event (EventBridge events reference, GuardDuty; severity is a number)."""
    return {
        "version": "0",
        "id": "c8c4daa7-a20c-2f03-0070-b7393dd542ad",
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": "111122223333",
        "time": "2026-11-20T10:20:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "schemaVersion": "2.0",
            "accountId": "111122223333",
            "region": "eu-west-1",
            "partition": "aws",
            "id": "16afba5c5c43e07c9e3e5e2e544e95df",
            "type": finding_type,
            "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0a1b2c3d4e5f60718"}},
            "service": {"serviceName": "guardduty", "count": 1, "archived": False},
            "severity": severity,
            "title": "Unprotected port on EC2 instance i-0a1b2c3d4e5f60718 is being probed.",
        },
    }


def security_hub_finding(
    label: str, *, product: str = "Security Hub", workflow: str = "NEW", record: str = "ACTIVE"
) -> dict:
    """A "Security Hub Findings - Imported" event: one ASFF finding in the detail.findings array ("EventBridge
    event formats for Security Hub CSPM")."""
    return {
        "version": "0",
        "id": "8e5622f9-d81c-4d81-612a-9319e7ee2506",
        "detail-type": "Security Hub Findings - Imported",
        "source": "aws.securityhub",
        "account": "111122223333",
        "time": "2026-11-20T10:25:00Z",
        "region": "eu-west-1",
        "resources": [
            "arn:aws:securityhub:eu-west-1::product/aws/securityhub/arn:aws:securityhub:eu-west-1:111122223333:finding/1"
        ],
        "detail": {
            "findings": [
                {
                    "SchemaVersion": "2018-10-08",
                    "Id": "arn:aws:securityhub:eu-west-1:111122223333:security-control/S3.8/finding/1",
                    "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
                    "ProductName": product,
                    "CompanyName": "AWS",
                    "GeneratorId": "security-control/S3.8",
                    "AwsAccountId": "111122223333",
                    "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
                    "Title": "S3 general purpose buckets should block public access",
                    "Severity": {"Label": label, "Normalized": {"LOW": 1, "MEDIUM": 40, "HIGH": 70}.get(label, 0)},
                    "Compliance": {"Status": "FAILED"},
                    "Workflow": {"Status": workflow},
                    "RecordState": record,
                    "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::digital-booking-prod-assets"}],
                }
            ]
        },
    }


@pytest.mark.parametrize(
    "severity, routed", [(2.0, False), (3.9, False), (4.0, True), (5.0, True), (7.0, True), (8.9, True)]
)
def test_guardduty_findings_of_medium_severity_or_above_are_routed(severity, routed):
    """GuardDuty user guide, "Severity levels for GuardDuty findings": Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9."""
    assert matches(GUARDDUTY_FINDINGS_PATTERN, guardduty_finding(severity)) is routed


@pytest.mark.parametrize(
    "finding, routed",
    [
        (security_hub_finding("HIGH"), True),
        (security_hub_finding("MEDIUM", product="IAM Access Analyzer"), True),
        (security_hub_finding("CRITICAL"), True),
        (security_hub_finding("LOW"), False),
        (security_hub_finding("INFORMATIONAL"), False),
        (security_hub_finding("HIGH", workflow="RESOLVED"), False),
        (security_hub_finding("HIGH", record="ARCHIVED"), False),
        (security_hub_finding("HIGH", product="GuardDuty"), False),  # its own rule sends it already
    ],
    ids=[
        "high",
        "medium-access-analyzer",
        "critical",
        "low",
        "informational",
        "resolved",
        "archived",
        "from-guardduty",
    ],
)
def test_new_security_hub_findings_of_medium_severity_or_above_are_routed(finding, routed):
    """Security Hub guide, "Configuring an EventBridge rule for automatically sent findings"."""
    assert matches(SECURITY_HUB_FINDINGS_PATTERN, finding) is routed


def test_a_finding_of_another_source_is_not_routed():
    other = copy.deepcopy(guardduty_finding(8.0))
    other["source"] = "aws.inspector2"
    assert not matches(GUARDDUTY_FINDINGS_PATTERN, other)


def test_both_finding_rules_are_deployed_and_target_the_security_topic(security_stack):
    rules = security_stack.resources("aws_cloudwatch_event_rule")
    patterns = sorted(json.loads(r["event_pattern"])["source"][0] for r in rules.values())
    assert patterns == ["aws.guardduty", "aws.securityhub"]
    assert {json.dumps(json.loads(r["event_pattern"]), sort_keys=True) for r in rules.values()} == {
        json.dumps(GUARDDUTY_FINDINGS_PATTERN, sort_keys=True),
        json.dumps(SECURITY_HUB_FINDINGS_PATTERN, sort_keys=True),
    }
    (topic_name,) = security_stack.resources("aws_sns_topic")
    targets = security_stack.resources("aws_cloudwatch_event_target").values()
    assert len(targets) == 2
    for target in targets:
        assert refers_to(target["arn"], "aws_sns_topic", topic_name)
        assert "role_arn" not in target  # SNS targets use the topic policy (EventBridge guide)
        assert any(refers_to(target["rule"], "aws_cloudwatch_event_rule", name) for name in rules)
