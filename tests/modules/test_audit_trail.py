"""The account trail: multi-region management events with log file validation, its own KMS key with what
CloudTrail needs, a private versioned TLS-only access-logged bucket with lifecycle, a log group with
retention; S3 data events in production accounts.

Pages: CloudTrail user guide, "Configure AWS KMS key policies for CloudTrail", "Amazon S3 bucket policy
for CloudTrail", "Role policy document for CloudTrail to use CloudWatch Logs for monitoring", "Logging
data events"; Security Hub control CloudTrail.1 (multi-region trail, read and write management events).
"""

from __future__ import annotations

import json

from environments import load_accounts, load_state_backend
from modules.audit_trail import TRAIL_NAME
from tests.tf_json import SynthesizedStack, refers_to

TRAIL_ARN = (
    "arn:${data.aws_partition.partition.partition}:cloudtrail:eu-west-1:${data.aws_caller_identity.account.account_id}"
    f":trail/{TRAIL_NAME}"
)


def trail(stack: SynthesizedStack) -> dict:
    return stack.only("aws_cloudtrail")


def named(stack: SynthesizedStack, resource_type: str, reference: str) -> tuple[str, dict]:
    [(name, found)] = [
        (n, r) for n, r in stack.resources(resource_type).items() if refers_to(reference, resource_type, n)
    ]
    return name, found


def statements(document: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


def test_one_multi_region_trail_of_every_management_event_with_validation(home_security_stack):
    found = trail(home_security_stack)
    assert found["is_multi_region_trail"] is True and found["include_global_service_events"] is True
    assert found["enable_log_file_validation"] is True and found["enable_logging"] is True
    management = found["advanced_event_selector"][0]
    assert management["field_selector"] == [{"field": "eventCategory", "equals": ["Management"]}]  # read and write


def test_the_trail_key_grants_cloudtrail_exactly_what_the_guide_lists(home_security_stack):
    _, key = named(home_security_stack, "aws_kms_key", trail(home_security_stack)["kms_key_id"])
    assert key["enable_key_rotation"] is True
    policy = statements(key["policy"])
    assert set(policy) == {
        "AccountAdministersKey",
        "CloudTrailEncryptsLogs",
        "CloudTrailDecryptsWithTheBucketKey",
        "CloudTrailDescribesKey",
    }
    encrypt = policy["CloudTrailEncryptsLogs"]
    assert (
        encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and encrypt["Action"] == "kms:GenerateDataKey*"
    )
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": TRAIL_ARN}
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:${data.aws_partition.partition.partition}:cloudtrail:*:"
        "${data.aws_caller_identity.account.account_id}:trail/*"
    }
    assert policy["CloudTrailDecryptsWithTheBucketKey"]["Action"] == "kms:Decrypt"
    assert policy["CloudTrailDescribesKey"]["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}


def test_the_trail_bucket_admits_only_this_trail_and_only_over_tls(home_security_stack):
    bucket_name, bucket = named(home_security_stack, "aws_s3_bucket", trail(home_security_stack)["s3_bucket_name"])
    assert bucket["bucket"] == "digital-booking-trail-${data.aws_caller_identity.account.account_id}"
    [policy] = [
        p
        for p in home_security_stack.resources("aws_s3_bucket_policy").values()
        if refers_to(p["bucket"], "aws_s3_bucket", bucket_name)
    ]
    found = statements(policy["policy"])
    assert found["CloudTrailChecksBucketAcl"]["Action"] == "s3:GetBucketAcl"
    write = found["CloudTrailWritesLogFiles"]
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"].endswith("/AWSLogs/${data.aws_caller_identity.account.account_id}/*")
    assert write["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}
    }
    assert found["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [policy_name] = [n for n, p in home_security_stack.resources("aws_s3_bucket_policy").items() if p is policy]
    assert trail(home_security_stack)["depends_on"] == [f"aws_s3_bucket_policy.{policy_name}"]


def test_the_trail_bucket_is_access_logged_and_archived_then_expired(home_security_stack):
    bucket_name, _ = named(home_security_stack, "aws_s3_bucket", trail(home_security_stack)["s3_bucket_name"])
    [logging] = [
        g
        for g in home_security_stack.resources("aws_s3_bucket_logging").values()
        if refers_to(g["bucket"], "aws_s3_bucket", bucket_name)
    ]
    _, target = named(home_security_stack, "aws_s3_bucket", logging["target_bucket"])
    assert target["bucket"].startswith("digital-booking-audit-logs-")
    [lifecycle] = [
        c
        for c in home_security_stack.resources("aws_s3_bucket_lifecycle_configuration").values()
        if refers_to(c["bucket"], "aws_s3_bucket", bucket_name)
    ]
    [rule] = lifecycle["rule"]
    baseline = load_accounts()["prod"].baseline
    assert rule["transition"] == [{"days": baseline.trail_archive_after_days, "storage_class": "GLACIER_IR"}]
    assert rule["expiration"] == [{"days": baseline.trail_expiration_days}]


def test_the_trail_delivers_to_an_encrypted_log_group_with_retention(home_security_stack):
    found = trail(home_security_stack)
    assert found["cloud_watch_logs_group_arn"].endswith(".arn}:*")  # the API wants the group ARN with :*
    _, group = named(home_security_stack, "aws_cloudwatch_log_group", found["cloud_watch_logs_group_arn"])
    assert group["retention_in_days"] == 365
    _, key = named(home_security_stack, "aws_kms_key", group["kms_key_id"])
    [logs] = [s for s in json.loads(key["policy"])["Statement"] if s["Sid"] == "CloudWatchLogsUseKey"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    role_name, role = named(home_security_stack, "aws_iam_role", found["cloud_watch_logs_role_arn"])
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {
        "Service": "cloudtrail.amazonaws.com"
    }
    [policy] = [
        p
        for p in home_security_stack.resources("aws_iam_role_policy").values()
        if refers_to(p["role"], "aws_iam_role", role_name)
    ]
    actions = {s["Action"]: s["Resource"] for s in json.loads(policy["policy"])["Statement"]}
    assert set(actions) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert all(
        r.endswith(":log-stream:${data.aws_caller_identity.account.account_id}_CloudTrail_*") for r in actions.values()
    )


def test_a_production_account_logs_object_events_of_the_state_and_assets_buckets(prod_security, prod):
    """CloudTrail guide, "Logging data events": advanced selectors on resources.ARN, "The trailing slash is
    intentional"; the names are the state bucket's and the prod stage's assets bucket as that stack names it."""
    selectors = trail(prod_security)["advanced_event_selector"]
    assert len(selectors) == 2
    data = {f["field"]: f for f in selectors[1]["field_selector"]}
    assert data["eventCategory"]["equals"] == ["Data"] and data["resources.type"]["equals"] == ["AWS::S3::Object"]
    (assets,) = [
        b["bucket"] for n, b in prod.resources("aws_s3_bucket").items() if n.startswith("static-assets_bucket")
    ]
    partition = "arn:${data.aws_partition.partition.partition}:s3:::"
    assert data["resources.ARN"]["starts_with"] == [
        f"{partition}{load_state_backend().bucket}/",
        f"{partition}{assets}/",
    ]


def test_a_non_production_account_logs_management_events_only(stacks):
    assert len(trail(stacks["digital-booking-security-nonprod-eu-west-1"])["advanced_event_selector"]) == 1


def test_a_production_accounts_trail_key_and_bucket_refuse_destroy(prod_security, stacks):
    for stack, protected in ((prod_security, True), (stacks["digital-booking-security-nonprod-eu-west-1"], False)):
        found = trail(stack)
        _, key = named(stack, "aws_kms_key", found["kms_key_id"])
        _, bucket = named(stack, "aws_s3_bucket", found["s3_bucket_name"])
        for resource in (key, bucket):
            assert resource.get("lifecycle", {}).get("prevent_destroy", False) is protected
