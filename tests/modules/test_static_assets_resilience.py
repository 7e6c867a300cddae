"""Static assets beyond one region and at the edge: the replica in the DR region hardened like the source,
least-privilege replication, CloudFront failing over to the replica, the stage's own domain with a
us-east-1 certificate and TLS 1.2, and a CLOUDFRONT-scope WAF."""

from __future__ import annotations

import json

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from environments import load_stage
from modules.static_assets import FAILOVER_STATUS_CODES, VIEWER_TLS_POLICY
from tests.modules.test_static_assets import assets_bucket, distribution, lifecycle_rules, of_bucket, policy_of
from tests.tf_json import refers_to


@pytest.fixture(params=["staging", "prod"])
def replicated(request, stacks):
    """The stages with a DR region, hence a replica."""
    return stacks[f"digital-booking-{request.param}"]


def replica(stack) -> str:
    [name] = [
        n
        for n, b in stack.resources("aws_s3_bucket").items()
        if "-assets-replica-" in b["bucket"] and "-logs-" not in b["bucket"]
    ]
    return name


def replica_log_bucket(stack) -> str:
    [name] = [n for n, b in stack.resources("aws_s3_bucket").items() if "-assets-replica-logs-" in b["bucket"]]
    return name


def key_named(stack, reference) -> tuple[str, dict]:
    [(name, key)] = [
        (n, k) for n, k in stack.resources("aws_kms_key").items() if refers_to(reference, "aws_kms_key", n)
    ]
    return name, key


def replica_key(stack) -> tuple[str, dict]:
    encryption = of_bucket(stack, "aws_s3_bucket_server_side_encryption_configuration", replica(stack))
    return key_named(stack, encryption["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"])


def source_key(stack) -> tuple[str, dict]:
    encryption = of_bucket(stack, "aws_s3_bucket_server_side_encryption_configuration", assets_bucket(stack))
    return key_named(stack, encryption["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"])


# -- the replica, hardened like the source --------------------------------------------------------------


def test_dev_has_no_replica(dev):
    assert not [b for b in dev.resources("aws_s3_bucket").values() if "-replica-" in b["bucket"]]
    assert dev.resources("aws_s3_bucket_replication_configuration") == {}


def test_the_replica_and_its_log_bucket_live_in_the_dr_region(replicated):
    for name in (replica(replicated), replica_log_bucket(replicated)):
        assert replicated.resources("aws_s3_bucket")[name]["provider"] == "aws.dr"
    dr_provider = {p.get("alias"): p for p in replicated.json["provider"]["aws"]}["dr"]
    assert dr_provider["region"] == load_stage(replicated.stage).stage.dr_region


@pytest.mark.parametrize(
    "resource_type",
    [
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_logging",
    ],
)
def test_the_replica_gets_every_protection_the_source_has(replicated, resource_type):
    source = of_bucket(replicated, resource_type, assets_bucket(replicated))
    copy = of_bucket(replicated, resource_type, replica(replicated))
    assert copy["provider"] == "aws.dr" and "provider" not in source
    if resource_type == "aws_s3_bucket_lifecycle_configuration":
        assert [{k: v for k, v in r.items()} for r in copy["rule"]] == list(lifecycle_rules(replicated).values())
    elif resource_type in ("aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls"):
        assert {k: v for k, v in copy.items() if k not in ("bucket", "provider", "//")} == {
            k: v for k, v in source.items() if k not in ("bucket", "//")
        }
    elif resource_type == "aws_s3_bucket_versioning":
        assert copy["versioning_configuration"]["status"] == "Enabled"
    elif resource_type == "aws_s3_bucket_logging":
        assert refers_to(copy["target_bucket"], "aws_s3_bucket", replica_log_bucket(replicated))


def test_the_replica_is_encrypted_with_a_rotating_key_in_the_dr_region(replicated):
    """S3 User Guide, "Replicating encrypted objects": the replica key "must have been created in the same
    AWS Region as the destination bucket"."""
    encryption = of_bucket(replicated, "aws_s3_bucket_server_side_encryption_configuration", replica(replicated))
    rule = encryption["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms" and rule["bucket_key_enabled"]
    name, key = replica_key(replicated)
    assert key["provider"] == "aws.dr" and key["enable_key_rotation"] is True and name != source_key(replicated)[0]


def test_the_replica_refuses_requests_without_tls_and_lets_only_the_distribution_read(replicated):
    statements = {s["Sid"]: s for s in policy_of(replicated, replica(replicated))["Statement"]}
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    reads = statements["AssetsDistributionReads"]
    dist_name, _ = distribution(replicated)
    assert reads["Principal"] == {"Service": "cloudfront.amazonaws.com"} and reads["Action"] == "s3:GetObject"
    assert refers_to(reads["Condition"]["StringEquals"]["AWS:SourceArn"], "aws_cloudfront_distribution", dist_name)
    decrypt = {s["Sid"]: s for s in json.loads(replica_key(replicated)[1]["policy"])["Statement"]}
    assert refers_to(
        decrypt["AssetsDistributionDecrypts"]["Condition"]["StringEquals"]["AWS:SourceArn"],
        "aws_cloudfront_distribution",
        dist_name,
    )


def test_prod_replica_and_its_key_refuse_destroy(prod):
    assert prod.resources("aws_s3_bucket")[replica(prod)]["lifecycle"]["prevent_destroy"] is True
    assert replica_key(prod)[1]["lifecycle"]["prevent_destroy"] is True


# -- replication -------------------------------------------------------------------------------------


def test_every_version_and_delete_marker_replicates_encrypted_within_15_minutes(replicated):
    """S3 User Guide, "Replicating encrypted objects": SSE-KMS objects replicate only with
    SourceSelectionCriteria/SseKmsEncryptedObjects enabled and a ReplicaKmsKeyID; "Meeting compliance
    requirements with S3 Replication Time Control": RTC needs metrics, both 15 minutes."""
    config = replicated.only("aws_s3_bucket_replication_configuration")
    assert refers_to(config["bucket"], "aws_s3_bucket", assets_bucket(replicated))
    [rule] = config["rule"]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
    assert rule["delete_marker_replication"] == {"status": "Enabled"}
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    destination = rule["destination"]
    assert refers_to(destination["bucket"], "aws_s3_bucket", replica(replicated)) and destination["bucket"].endswith(
        ".arn}"
    )
    assert refers_to(
        destination["encryption_configuration"]["replica_kms_key_id"], "aws_kms_key", replica_key(replicated)[0]
    )
    assert destination["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"] == {"status": "Enabled", "event_threshold": {"minutes": 15}}


def test_replication_waits_for_versioning_at_both_ends(replicated):
    """S3 refuses a replication configuration on an unversioned bucket (run below in the emulator), and the
    destination must be versioned too (S3 User Guide, "Requirements for live replication")."""
    config = replicated.only("aws_s3_bucket_replication_configuration")
    versioned = {
        n
        for n, v in replicated.resources("aws_s3_bucket_versioning").items()
        if refers_to(v["bucket"], "aws_s3_bucket", assets_bucket(replicated))
        or refers_to(v["bucket"], "aws_s3_bucket", replica(replicated))
    }
    assert {d.removeprefix("aws_s3_bucket_versioning.") for d in config["depends_on"]} == versioned
    assert len(versioned) == 2


def test_the_replication_role_is_least_privilege(replicated):
    """S3 User Guide, "Setting up permissions for live replication": trust s3.amazonaws.com; on the source
    GetReplicationConfiguration, ListBucket and GetObjectVersion{ForReplication,Acl,Tagging}; on the
    destination Replicate{Object,Delete,Tags}. "Replicating encrypted objects": kms:Decrypt on the source
    key and encryption on the replica key, each through S3 of its own region, for its own bucket (with S3
    Bucket Keys the encryption context is the bucket ARN, so both the bucket and its objects are named)."""
    config = replicated.only("aws_s3_bucket_replication_configuration")
    [(role_name, role)] = [
        (n, r) for n, r in replicated.resources("aws_iam_role").items() if refers_to(config["role"], "aws_iam_role", n)
    ]
    assert json.loads(role["assume_role_policy"])["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "s3.amazonaws.com"}}
    ]
    [policy] = [
        p
        for p in replicated.resources("aws_iam_role_policy").values()
        if refers_to(p["role"], "aws_iam_role", role_name)
    ]
    assert not [
        a
        for a in replicated.resources("aws_iam_role_policy_attachment").values()
        if refers_to(a["role"], "aws_iam_role", role_name)
    ]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    source, copy = assets_bucket(replicated), replica(replicated)
    assert set(statements) == {
        "ReadReplicationConfiguration",
        "ReadVersionsToReplicate",
        "WriteReplicas",
        "DecryptSourceObjects",
        "EncryptReplicas",
    }
    assert all(s["Effect"] == "Allow" and s["Resource"] != "*" for s in statements.values())
    assert statements["ReadReplicationConfiguration"]["Resource"] == f"${{aws_s3_bucket.{source}.arn}}"
    assert statements["ReadVersionsToReplicate"]["Resource"] == f"${{aws_s3_bucket.{source}.arn}}/*"
    assert set(statements["WriteReplicas"]["Action"]) == {
        "s3:ReplicateObject",
        "s3:ReplicateDelete",
        "s3:ReplicateTags",
    }
    assert statements["WriteReplicas"]["Resource"] == f"${{aws_s3_bucket.{copy}.arn}}/*"
    stage = load_stage(replicated.stage).stage
    for sid, key, bucket, region in (
        ("DecryptSourceObjects", source_key(replicated)[0], source, stage.region),
        ("EncryptReplicas", replica_key(replicated)[0], copy, stage.dr_region),
    ):
        statement = statements[sid]
        assert refers_to(statement["Resource"], "aws_kms_key", key)
        assert statement["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{region}.amazonaws.com"}
        arns = statement["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]
        assert arns == [f"${{aws_s3_bucket.{bucket}.arn}}", f"${{aws_s3_bucket.{bucket}.arn}}/*"]
    assert statements["DecryptSourceObjects"]["Action"] == "kms:Decrypt"


def test_the_emulator_refuses_replication_from_an_unversioned_bucket():
    """What ``depends_on`` orders against: S3 (as moto emulates it) answers PutBucketReplication on a bucket
    without versioning with an error, and accepts this stack's rule once versioning is on."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
        s3.create_bucket(Bucket="source", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        rule = {
            "ID": "everything-to-the-dr-region",
            "Status": "Enabled",
            "Priority": 0,
            "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": {
                "Bucket": "arn:aws:s3:::replica",
                "EncryptionConfiguration": {"ReplicaKmsKeyID": "arn:aws:kms:eu-central-1:123456789012:key/x"},
                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
            },
        }
        configuration = {"Role": "arn:aws:iam::123456789012:role/r", "Rules": [rule]}
        with pytest.raises(ClientError, match="Versioning must be 'Enabled'"):
            s3.put_bucket_replication(Bucket="source", ReplicationConfiguration=configuration)
        s3.put_bucket_versioning(Bucket="source", VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(Bucket="source", ReplicationConfiguration=configuration)
        read = s3.get_bucket_replication(Bucket="source")["ReplicationConfiguration"]["Rules"][0]
        assert read["Destination"]["ReplicationTime"]["Time"]["Minutes"] == 15


# -- CloudFront fails over to the replica ------------------------------------------------------------


def test_cloudfront_fails_over_to_the_replica_through_an_origin_group(replicated):
    """CloudFront Developer Guide, "Optimizing high availability with CloudFront origin failover": an origin
    group of a primary and a secondary origin with failover status codes (FSBP CloudFront.4, checkov
    CKV_AWS_310: failover criteria and two members). "Request and response behavior for origin groups":
    CloudFront fails over only for GET, HEAD and OPTIONS, so the behaviour allows only those."""
    _, dist = distribution(replicated)
    origins = {o["origin_id"]: o for o in dist["origin"]}
    assert refers_to(origins["assets-bucket"]["domain_name"], "aws_s3_bucket", assets_bucket(replicated))
    assert refers_to(origins["assets-replica"]["domain_name"], "aws_s3_bucket", replica(replicated))
    assert origins["assets-replica"]["domain_name"].endswith(".bucket_regional_domain_name}")
    [group] = dist["origin_group"]
    assert [m["origin_id"] for m in group["member"]] == ["assets-bucket", "assets-replica"]
    codes = group["failover_criteria"]["status_codes"]
    assert codes == list(FAILOVER_STATUS_CODES) and set(codes) <= {400, 403, 404, 416, 500, 502, 503, 504}
    behaviour = dist["default_cache_behavior"]
    assert behaviour["target_origin_id"] == group["origin_id"]
    assert set(behaviour["allowed_methods"]) <= {"GET", "HEAD", "OPTIONS"}


# -- the edge: own domain, certificate, TLS, WAF ------------------------------------------------------


def test_prod_serves_its_assets_domain_with_a_dns_validated_certificate_from_us_east_1(prod):
    """ACM User Guide, "Supported Regions": "To use an ACM certificate with Amazon CloudFront, you must request
    or import the certificate in the US East (N. Virginia) region" (the ``edge`` provider); validated by DNS
    records in the stage's zone (Route 53 is global)."""
    config = load_stage("prod").static_assets
    certificate = prod.only("aws_acm_certificate", within="static-assets")
    assert certificate["provider"] == "aws.edge" and certificate["domain_name"] == config.domain_name
    assert certificate["validation_method"] == "DNS"
    validation = prod.only("aws_acm_certificate_validation", within="static-assets")
    assert validation["provider"] == "aws.edge"
    [(record_name, record)] = [
        (n, r)
        for n, r in prod.resources("aws_route53_record").items()
        if n.startswith("static-assets_") and "for_each" in r
    ]
    assert (
        "domain_validation_options" in record["for_each"]
        and f"aws_route53_record.{record_name}" in validation["validation_record_fqdns"]
    )
    [zone] = [z for n, z in prod.data("aws_route53_zone").items() if n.startswith("static-assets_")]
    assert zone["name"] == config.hosted_zone_name and zone["private_zone"] is False


def test_prod_viewers_get_tls_1_2_on_the_custom_certificate(prod):
    """CloudFront Developer Guide, "Supported protocols and ciphers between viewers and CloudFront": with a
    custom certificate and SNI the minimum protocol is chosen (TLSv1.2_2021; FSBP CloudFront.7 and
    CloudFront.15, checkov CKV_AWS_174 and CKV2_AWS_42). The *.cloudfront.net certificate fixes TLSv1."""
    dist_name, dist = distribution(prod)
    certificate = dist["viewer_certificate"]
    assert certificate["minimum_protocol_version"] == VIEWER_TLS_POLICY == "TLSv1.2_2021"
    assert certificate["ssl_support_method"] == "sni-only" and "cloudfront_default_certificate" not in certificate
    validation = prod.resources("aws_acm_certificate_validation")
    [name] = [n for n in validation if n.startswith("static-assets_")]
    assert certificate["acm_certificate_arn"] == f"${{aws_acm_certificate_validation.{name}.certificate_arn}}"
    assert dist["aliases"] == [load_stage("prod").static_assets.domain_name]


def test_the_tls_policy_is_one_cloudfront_knows():
    """The provider (5.100) validates minimum_protocol_version against the AWS SDK's enum; the botocore of
    this project has the same model: TLSv1.2_2021 is in it (the newer 2025 policies are not)."""
    model = botocore.session.get_session().get_service_model("cloudfront")
    values = model.shape_for("MinimumProtocolVersion").enum
    assert VIEWER_TLS_POLICY in values and "TLSv1.2_2025" not in values


def test_prod_assets_domain_is_an_alias_of_the_distribution_for_ipv4_and_ipv6(prod):
    config = load_stage("prod").static_assets
    dist_name, dist = distribution(prod)
    aliases = [
        r for n, r in prod.resources("aws_route53_record").items() if n.startswith("static-assets_") and "alias" in r
    ]
    assert sorted(r["type"] for r in aliases) == ["A", "AAAA"] and dist["is_ipv6_enabled"] is True
    for record in aliases:
        assert record["name"] == config.domain_name
        assert record["alias"]["name"] == f"${{aws_cloudfront_distribution.{dist_name}.domain_name}}"
        assert record["alias"]["zone_id"] == f"${{aws_cloudfront_distribution.{dist_name}.hosted_zone_id}}"
    assert prod.outputs()["assets_url"]["value"] == f"https://{config.domain_name}"


def test_staging_without_a_domain_serves_on_the_cloudfront_certificate(stacks):
    """Staging has no domain of its own (a certificate needs one to validate): CloudFront's *.cloudfront.net
    certificate, whose policy CloudFront fixes. Dev has no distribution at all."""
    staging = stacks["digital-booking-staging"]
    _, dist = distribution(staging)
    assert dist["viewer_certificate"] == {"cloudfront_default_certificate": True}
    assert "aliases" not in dist and "assets_url" not in staging.outputs()
    assert stacks["digital-booking-dev"].resources("aws_cloudfront_distribution") == {}


def cdn_web_acl(stack) -> tuple[str, dict]:
    [(name, acl)] = [(n, a) for n, a in stack.resources("aws_wafv2_web_acl").items() if a["scope"] == "CLOUDFRONT"]
    return name, acl


def test_the_distribution_sits_behind_a_cloudfront_web_acl_in_us_east_1(replicated):
    """AWS WAF Developer Guide, "Resources that you can protect": for CloudFront "you must use the Region US
    East (N. Virginia) to create your web ACL"; the distribution takes the WAFv2 ACL's ARN as web_acl_id
    (FSBP CloudFront.6, checkov CKV_AWS_68). checkov CKV2_AWS_47 wants AWSManagedRulesKnownBadInputsRuleSet
    and AWSManagedRulesAnonymousIpList among its rules."""
    name, acl = cdn_web_acl(replicated)
    assert acl["provider"] == "aws.edge"
    _, dist = distribution(replicated)
    assert dist["web_acl_id"] == f"${{aws_wafv2_web_acl.{name}.arn}}"
    groups = {
        r["statement"]["managed_rule_group_statement"]["name"]
        for r in acl["rule"]
        if "managed_rule_group_statement" in r["statement"]
    }
    assert {"AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAnonymousIpList"} <= groups
    [rate] = [r for r in acl["rule"] if "rate_based_statement" in r["statement"]]
    assert rate["action"] == {"block": {}} and rate["priority"] == 0
    assert (
        rate["statement"]["rate_based_statement"]["limit"] == load_stage(replicated.stage).static_assets.waf_rate_limit
    )


def test_the_cdn_web_acl_logs_in_us_east_1(replicated):
    """AWS WAF Developer Guide, "CloudWatch Logs": the log group's name starts with aws-waf-logs- and, for a
    CloudFront web ACL, lives in us-east-1 with it."""
    name, _ = cdn_web_acl(replicated)
    [logging] = [
        c
        for c in replicated.resources("aws_wafv2_web_acl_logging_configuration").values()
        if refers_to(c["resource_arn"], "aws_wafv2_web_acl", name)
    ]
    assert logging["provider"] == "aws.edge"
    [group] = [
        g
        for n, g in replicated.resources("aws_cloudwatch_log_group").items()
        if refers_to(logging["log_destination_configs"], "aws_cloudwatch_log_group", n)
    ]
    assert group["provider"] == "aws.edge" and group["name"].startswith("aws-waf-logs-")
    assert group["retention_in_days"] == load_stage(replicated.stage).static_assets.waf_log_retention_days
