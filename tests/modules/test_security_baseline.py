"""The security topic and the account guards of every account and region.

Pages: SNS developer guide, "Enable compatibility between event sources from AWS services and encrypted
topics" (CloudWatch and EventBridge need kms:GenerateDataKey* and kms:Decrypt; aws:SourceAccount and
aws:SourceArn are not supported in the key policy for EventBridge-to-encrypted-topic delivery); EC2 Auto
Scaling user guide, "Required AWS KMS key policy for use with encrypted volumes"; KMS API reference,
CreateKey ("The principals in the key policy must exist"); provider docs of aws_s3_account_public_access_block,
aws_ebs_encryption_by_default, aws_ebs_default_kms_key, aws_ebs_snapshot_block_public_access.
"""

from __future__ import annotations

import json

import pytest

from environments import load_accounts
from modules.security_baseline import SecurityBaselineSettings
from modules.settings import InvalidSettings, require_valid
from stacks.security_stack import security_stack_name
from tests.tf_json import refers_to

ACCOUNT_ID = "${data.aws_caller_identity.account.account_id}"


def statements(document: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


def account_of(stack) -> str:
    [name] = [
        a.name
        for a in load_accounts().values()
        for region in a.regions
        if stack.name == security_stack_name(a.name, region)
    ]
    return name


# -- the security topic -------------------------------------------------------------------------------------


def test_the_security_topic_is_encrypted_and_its_key_lets_exactly_alarms_and_rules_publish(security_stack):
    (topic,) = security_stack.resources("aws_sns_topic").values()
    [(key_name, key)] = [
        (n, k)
        for n, k in security_stack.resources("aws_kms_key").items()
        if refers_to(topic["kms_master_key_id"], "aws_kms_key", n)
    ]
    assert key["enable_key_rotation"] is True
    policy = statements(key["policy"])
    assert set(policy) == {"AccountAdministersKey", "CloudWatchAlarmsUseKey", "EventBridgeRulesUseKey"}
    for sid, service in (("CloudWatchAlarmsUseKey", "cloudwatch"), ("EventBridgeRulesUseKey", "events")):
        assert policy[sid]["Principal"] == {"Service": f"{service}.amazonaws.com"}
        assert sorted(policy[sid]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert policy["CloudWatchAlarmsUseKey"]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert "Condition" not in policy["EventBridgeRulesUseKey"]  # unsupported there: delivery would fail


def test_the_security_topic_policy_admits_the_accounts_alarms_and_rules_over_tls_only(security_stack):
    (policy,) = security_stack.resources("aws_sns_topic_policy").values()
    found = statements(policy["policy"])
    assert found["AlarmsOfThisAccountPublish"]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    rules = found["FindingRulesPublish"]
    assert rules["Principal"] == {"Service": "events.amazonaws.com"} and rules["Action"] == "sns:Publish"
    assert rules["Condition"]["ArnLike"]["aws:SourceArn"].endswith(f":{ACCOUNT_ID}:rule/digital-booking-security-*")
    for rule in security_stack.resources("aws_cloudwatch_event_rule").values():
        assert rule["name"].startswith("digital-booking-security-")  # so the condition admits it
    deny = found["DenyInsecureTransport"]
    assert deny["Action"] == "sns:Publish" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_security_topic_mails_the_accounts_security_subscribers(security_stack):
    expected = load_accounts()[account_of(security_stack)].security_emails
    subscriptions = security_stack.resources("aws_sns_topic_subscription").values()
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(expected)
    assert all(s["protocol"] == "email" for s in subscriptions)


# -- account guards -----------------------------------------------------------------------------------------


def test_the_s3_account_public_access_block_blocks_everything(home_security_stack):
    block = home_security_stack.only("aws_s3_account_public_access_block")
    assert all(
        block[flag] is True
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert block["account_id"] == ACCOUNT_ID


def test_ebs_volumes_are_encrypted_by_default_with_the_accounts_key(security_stack):
    assert security_stack.only("aws_ebs_encryption_by_default")["enabled"] is True
    default = security_stack.only("aws_ebs_default_kms_key")
    [(_, key)] = [
        (n, k)
        for n, k in security_stack.resources("aws_kms_key").items()
        if refers_to(default["key_arn"], "aws_kms_key", n)
    ]
    assert key["enable_key_rotation"] is True


def test_the_ebs_key_lets_auto_scaling_launch_the_app_servers(security_stack):
    """The app servers' launch template asks for encryption without naming a key, so their volumes use the
    default key through Auto Scaling's service-linked role: both statements of the Auto Scaling guide,
    matched by aws:PrincipalArn because the role may not exist yet when the key is created."""
    default = security_stack.only("aws_ebs_default_kms_key")
    [key] = [
        k for n, k in security_stack.resources("aws_kms_key").items() if refers_to(default["key_arn"], "aws_kms_key", n)
    ]
    policy = statements(key["policy"])
    role = (
        f"arn:${{data.aws_partition.partition.partition}}:iam::{ACCOUNT_ID}:role/aws-service-role/"
        "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    use, grant = policy["AutoScalingUsesKey"], policy["AutoScalingAttachesVolumes"]
    assert sorted(use["Action"]) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    assert grant["Action"] == "kms:CreateGrant" and grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    for statement in (use, grant):
        assert statement["Condition"]["ArnEquals"] == {"aws:PrincipalArn": role}
        assert statement["Condition"]["StringEquals"] == {"kms:CallerAccount": ACCOUNT_ID}


def test_snapshots_cannot_be_shared_publicly(security_stack):
    assert security_stack.only("aws_ebs_snapshot_block_public_access")["state"] == "block-all-sharing"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"trail_log_retention_days": 400 + 1}, "trail_log_retention_days"),
        ({"trail_archive_after_days": 10}, "trail_archive_after_days"),
        ({"trail_expiration_days": 60}, "trail_expiration_days"),
        ({"config_expiration_days": 5000}, "config_expiration_days"),
    ],
)
def test_baseline_settings_aws_would_refuse_are_refused(changes, field):
    with pytest.raises(InvalidSettings, match=f"SecurityBaselineSettings.{field} = "):
        require_valid(SecurityBaselineSettings(**changes), "eu-west-1")
