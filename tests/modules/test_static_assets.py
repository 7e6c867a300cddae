"""Static assets, per stage: the bucket's protections, its lifecycle, CloudFront with OAC, the writer's rights."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from cdktf_cdktf_provider_aws.provider import AwsProvider

from environments import load_stage, stage_names
from modules.static_assets import StaticAssets, StaticAssetsSettings
from tests.constructs import synth_construct
from tests.tf_json import refers_to


def assets_bucket(stack) -> str:
    """Terraform name of the assets bucket (not its log bucket, not the ALB's)."""
    [name] = [
        n
        for n, b in stack.resources("aws_s3_bucket").items()
        if "-assets-" in b["bucket"] and "-assets-logs-" not in b["bucket"] and "-assets-replica-" not in b["bucket"]
    ]
    return name


def log_bucket(stack) -> str:
    [name] = [n for n, b in stack.resources("aws_s3_bucket").items() if "-assets-logs-" in b["bucket"]]
    return name


def of_bucket(stack, resource_type, bucket):
    """The one resource of a type that configures ``bucket``."""
    [found] = [r for r in stack.resources(resource_type).values() if refers_to(r["bucket"], "aws_s3_bucket", bucket)]
    return found


def policy_of(stack, bucket) -> dict:
    return json.loads(of_bucket(stack, "aws_s3_bucket_policy", bucket)["policy"])


def assets_key(stack) -> tuple[str, dict]:
    encryption = of_bucket(stack, "aws_s3_bucket_server_side_encryption_configuration", assets_bucket(stack))
    key_ref = encryption["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"]
    [(name, key)] = [(n, k) for n, k in stack.resources("aws_kms_key").items() if refers_to(key_ref, "aws_kms_key", n)]
    return name, key


def distribution(stack) -> tuple[str, dict]:
    [(name, dist)] = stack.resources("aws_cloudfront_distribution").items()
    return name, dist


def lifecycle_rules(stack) -> dict[str, dict]:
    return {r["id"]: r for r in of_bucket(stack, "aws_s3_bucket_lifecycle_configuration", assets_bucket(stack))["rule"]}


# -- the bucket's protections ---------------------------------------------------------------------


@pytest.mark.parametrize("which", [assets_bucket, log_bucket])
def test_both_buckets_block_every_kind_of_public_access(stage_stack, which):
    block = of_bucket(stage_stack, "aws_s3_bucket_public_access_block", which(stage_stack))
    assert all(
        block[flag] is True
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )


def test_assets_bucket_disables_acls(stage_stack):
    controls = of_bucket(stage_stack, "aws_s3_bucket_ownership_controls", assets_bucket(stage_stack))
    assert controls["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_assets_bucket_is_versioned(stage_stack):
    versioning = of_bucket(stage_stack, "aws_s3_bucket_versioning", assets_bucket(stage_stack))
    assert versioning["versioning_configuration"]["status"] == "Enabled"


def test_assets_bucket_uses_sse_kms_with_bucket_key_and_a_rotated_key(stage_stack):
    encryption = of_bucket(
        stage_stack, "aws_s3_bucket_server_side_encryption_configuration", assets_bucket(stage_stack)
    )["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    assert encryption["bucket_key_enabled"] is True
    _, key = assets_key(stage_stack)
    assert key["enable_key_rotation"] is True


@pytest.mark.parametrize("which", [assets_bucket, log_bucket])
def test_both_buckets_deny_requests_without_tls(stage_stack, which):
    bucket = which(stage_stack)
    [deny] = [s for s in policy_of(stage_stack, bucket)["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert refers_to(deny["Resource"], "aws_s3_bucket", bucket)


def test_assets_bucket_logs_access_to_the_log_bucket(stage_stack):
    logging = of_bucket(stage_stack, "aws_s3_bucket_logging", assets_bucket(stage_stack))
    assert refers_to(logging["target_bucket"], "aws_s3_bucket", log_bucket(stage_stack))
    assert logging["target_prefix"] == "s3-access/"


def test_log_bucket_accepts_only_the_log_deliveries_of_this_account(stage_stack):
    """S3 User Guide, "Enabling Amazon S3 server access logging" (logging.s3.amazonaws.com with
    aws:SourceAccount) and CloudWatch Logs User Guide, "Logs sent to Amazon S3" (vended logs:
    delivery.logs.amazonaws.com, aws:SourceAccount and aws:SourceArn of the delivery source)."""
    allows = {
        s["Sid"]: s for s in policy_of(stage_stack, log_bucket(stage_stack))["Statement"] if s["Effect"] == "Allow"
    }
    access = allows["S3ServerAccessLogsDelivery"]
    assert access["Principal"] == {"Service": "logging.s3.amazonaws.com"} and access["Action"] == "s3:PutObject"
    assert access["Resource"].endswith("/s3-access/*") and "aws:SourceAccount" in access["Condition"]["StringEquals"]
    delivery = allows["CloudFrontLogDelivery"]
    assert delivery["Principal"] == {"Service": "delivery.logs.amazonaws.com"} and delivery["Resource"].endswith(
        "/cloudfront/*"
    )
    assert (
        delivery["Condition"]["StringEquals"]["aws:SourceAccount"] == "${data.aws_caller_identity.account.account_id}"
    )
    assert ":logs:us-east-1:" in delivery["Condition"]["ArnLike"]["aws:SourceArn"]
    assert set(allows) == {"S3ServerAccessLogsDelivery", "CloudFrontLogDeliveryAclCheck", "CloudFrontLogDelivery"}


def test_log_bucket_is_encrypted_and_expires_logs(stage_stack):
    config = load_stage(stage_stack.stage).static_assets
    bucket = log_bucket(stage_stack)
    encryption = of_bucket(stage_stack, "aws_s3_bucket_server_side_encryption_configuration", bucket)
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    [rule] = of_bucket(stage_stack, "aws_s3_bucket_lifecycle_configuration", bucket)["rule"]
    assert rule["expiration"][0]["days"] == config.access_log_expiration_days


def test_no_bucket_needs_acls_so_none_has_them(stage_stack):
    """CloudFront Developer Guide, "Configure standard logging (legacy)": legacy logging cannot deliver to a
    bucket whose Object Ownership is bucket owner enforced (ACLs disabled), and a new distribution's
    creation races the bucket's ownership controls. Standard logging v2 (CloudWatch log delivery) writes
    through the bucket policy, so every bucket keeps ACLs off (FSBP S3.12)."""
    for controls in stage_stack.resources("aws_s3_bucket_ownership_controls").values():
        assert controls["rule"]["object_ownership"] == "BucketOwnerEnforced"
    for _, dist in stage_stack.resources("aws_cloudfront_distribution").items():
        assert "logging_config" not in dist


def test_prod_assets_bucket_and_key_refuse_destroy(prod):
    assert prod.resources("aws_s3_bucket")[assets_bucket(prod)]["lifecycle"]["prevent_destroy"] is True
    assert assets_key(prod)[1]["lifecycle"]["prevent_destroy"] is True


def test_dev_assets_bucket_may_be_destroyed(dev):
    assert "lifecycle" not in dev.resources("aws_s3_bucket")[assets_bucket(dev)]


# -- lifecycle ------------------------------------------------------------------------------------


def test_every_lifecycle_rule_has_an_explicit_filter(stage_stack):
    for rule in lifecycle_rules(stage_stack).values():
        assert rule["filter"] == [{"prefix": ""}] and rule["status"] == "Enabled"


def test_objects_move_standard_to_ia_to_archive_in_order_with_stage_days(stage_stack):
    config = load_stage(stage_stack.stage).static_assets
    transitions = lifecycle_rules(stage_stack)["tier-down-current-versions"]["transition"]
    assert [(t["storage_class"], t["days"]) for t in transitions] == [
        ("STANDARD_IA", config.transition_to_ia_days),
        (config.archive_storage_class, config.transition_to_archive_days),
    ]
    ia, archive = (t["days"] for t in transitions)
    assert 30 <= ia and archive >= ia + 30


def test_archive_class_is_a_glacier_class(stage_stack):
    transitions = lifecycle_rules(stage_stack)["tier-down-current-versions"]["transition"]
    assert transitions[-1]["storage_class"] in ("GLACIER_IR", "GLACIER")


def test_noncurrent_versions_expire(stage_stack):
    config = load_stage(stage_stack.stage).static_assets
    rule = lifecycle_rules(stage_stack)["expire-noncurrent-versions"]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": config.noncurrent_version_expiration_days}]


def test_incomplete_multipart_uploads_are_aborted(stage_stack):
    config = load_stage(stage_stack.stage).static_assets
    rule = lifecycle_rules(stage_stack)["abort-incomplete-multipart-uploads"]
    assert rule["abort_incomplete_multipart_upload"] == [
        {"days_after_initiation": config.abort_incomplete_multipart_days}
    ]


# -- CloudFront -----------------------------------------------------------------------------------


def test_cloudfront_follows_the_stage_switch(stacks):
    for stage in stage_names():
        expected = 1 if load_stage(stage).static_assets.cloudfront_enabled else 0
        assert len(stacks[f"digital-booking-{stage}"].resources("aws_cloudfront_distribution")) == expected, stage


@pytest.fixture(params=["staging", "prod"])
def cdn_stack(request, stacks):
    return stacks[f"digital-booking-{request.param}"]


def test_distribution_reads_the_bucket_through_origin_access_control(cdn_stack):
    _, dist = distribution(cdn_stack)
    [origin] = [o for o in dist["origin"] if o["origin_id"] == "assets-bucket"]
    assert refers_to(origin["domain_name"], "aws_s3_bucket", assets_bucket(cdn_stack))
    [(oac_name, oac)] = cdn_stack.resources("aws_cloudfront_origin_access_control").items()
    assert all(
        refers_to(o["origin_access_control_id"], "aws_cloudfront_origin_access_control", oac_name)
        for o in dist["origin"]
    )
    assert (oac["origin_access_control_origin_type"], oac["signing_behavior"], oac["signing_protocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    assert "s3_origin_config" not in origin  # no legacy origin access identity


def test_distribution_redirects_http_to_https_and_serves_a_root_object(cdn_stack):
    _, dist = distribution(cdn_stack)
    behaviour = dist["default_cache_behavior"]
    assert behaviour["viewer_protocol_policy"] == "redirect-to-https"
    assert set(behaviour["allowed_methods"]) == {"GET", "HEAD", "OPTIONS"}
    assert dist["default_root_object"] == load_stage(cdn_stack.stage).static_assets.default_root_object


def test_distribution_sends_security_headers(cdn_stack):
    _, dist = distribution(cdn_stack)
    [(name, policy)] = cdn_stack.resources("aws_cloudfront_response_headers_policy").items()
    assert refers_to(
        dist["default_cache_behavior"]["response_headers_policy_id"], "aws_cloudfront_response_headers_policy", name
    )
    headers = policy["security_headers_config"]
    assert headers["strict_transport_security"]["access_control_max_age_sec"] >= 31536000
    assert headers["frame_options"]["frame_option"] == "DENY"
    assert headers["content_type_options"]["override"] is True
    assert "frame-ancestors 'none'" in headers["content_security_policy"]["content_security_policy"]


def test_distribution_logs_through_cloudwatch_log_delivery_in_us_east_1(cdn_stack):
    """CloudFront Developer Guide, "Configure standard logging (v2)": CloudFront delivers access logs as
    CloudWatch vended logs: a delivery source (the distribution, log type ACCESS_LOGS), a destination (the
    log bucket) and a delivery joining them, all configured in us-east-1 (the ``edge`` provider)."""
    name, _ = distribution(cdn_stack)
    source = cdn_stack.only("aws_cloudwatch_log_delivery_source")
    assert source["log_type"] == "ACCESS_LOGS"
    assert refers_to(source["resource_arn"], "aws_cloudfront_distribution", name)
    destination = cdn_stack.only("aws_cloudwatch_log_delivery_destination")
    [config] = destination["delivery_destination_configuration"]
    assert refers_to(config["destination_resource_arn"], "aws_s3_bucket", log_bucket(cdn_stack))
    assert config["destination_resource_arn"].endswith("/cloudfront")
    delivery = cdn_stack.only("aws_cloudwatch_log_delivery")
    assert "aws_cloudwatch_log_delivery_source" in delivery["delivery_source_name"]
    assert "aws_cloudwatch_log_delivery_destination" in delivery["delivery_destination_arn"]
    assert any("aws_s3_bucket_policy" in d for d in delivery["depends_on"])  # the policy lets it write
    edge = [p for p in cdn_stack.json["provider"]["aws"] if p.get("alias") == "edge"]
    assert [p["region"] for p in edge] == ["us-east-1"]
    for resource in (source, destination, delivery):
        assert resource["provider"] == "aws.edge"


def test_only_the_distribution_may_read_the_bucket(cdn_stack):
    name, _ = distribution(cdn_stack)
    [allow] = [s for s in policy_of(cdn_stack, assets_bucket(cdn_stack))["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert refers_to(allow["Condition"]["StringEquals"]["AWS:SourceArn"], "aws_cloudfront_distribution", name)


def test_only_the_distribution_may_decrypt_with_the_assets_key(cdn_stack):
    name, _ = distribution(cdn_stack)
    statements = json.loads(assets_key(cdn_stack)[1]["policy"])["Statement"]
    [cloudfront] = [s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert cloudfront["Action"] == "kms:Decrypt"
    assert refers_to(cloudfront["Condition"]["StringEquals"]["AWS:SourceArn"], "aws_cloudfront_distribution", name)


def test_without_cloudfront_nobody_outside_the_account_may_read(dev):
    statements = policy_of(dev, assets_bucket(dev))["Statement"]
    assert [s["Effect"] for s in statements] == ["Deny"]
    assert not any("cloudfront" in json.dumps(s) for s in json.loads(assets_key(dev)[1]["policy"])["Statement"])


def test_no_bucket_policy_grants_to_everyone(stage_stack):
    for policy in stage_stack.resources("aws_s3_bucket_policy").values():
        for statement in json.loads(policy["policy"])["Statement"]:
            assert statement["Effect"] == "Deny" or statement["Principal"] != "*"


# -- the app servers' rights ----------------------------------------------------------------------


def writer_policy(stack) -> dict:
    [policy] = [p for p in stack.resources("aws_iam_role_policy").values() if "asset-uploads" in p["name"]]
    return policy


def test_app_servers_may_only_put_uploads_and_encrypt_them(stage_stack):
    """S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)": "To upload an object
    encrypted with an AWS KMS key ... you need kms:GenerateDataKey permissions on the key"; "Uploading and
    copying objects using multipart upload": "the requester must have permission to the kms:Decrypt and
    kms:GenerateDataKey actions on the key". Both only through S3, for this bucket's encryption context."""
    policy = writer_policy(stage_stack)
    [role_name] = [n for n in stage_stack.resources("aws_iam_role") if refers_to(policy["role"], "aws_iam_role", n)]
    assert "app" in role_name
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    prefix = load_stage(stage_stack.stage).static_assets.upload_prefix
    put = statements["PutUploads"]
    assert put["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    assert refers_to(put["Resource"], "aws_s3_bucket", assets_bucket(stage_stack))
    assert put["Resource"].endswith(f"/{prefix}*")
    encrypt = statements["EncryptUploads"]
    assert sorted(encrypt["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    key_name, _ = assets_key(stage_stack)
    assert refers_to(encrypt["Resource"], "aws_kms_key", key_name)
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    contexts = encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]
    assert all(refers_to(c, "aws_s3_bucket", assets_bucket(stage_stack)) for c in contexts)


def test_no_statement_of_the_writer_uses_a_wildcard_resource(stage_stack):
    for statement in json.loads(writer_policy(stage_stack)["policy"])["Statement"]:
        assert statement["Resource"] != "*" and statement["Effect"] == "Allow"


def test_stage_outputs_the_bucket_and_the_cdn_domain(stacks):
    assert "assets_bucket" in stacks["digital-booking-dev"].outputs()
    assert "assets_domain_name" not in stacks["digital-booking-dev"].outputs()
    assert "assets_domain_name" in stacks["digital-booking-prod"].outputs()


# -- the construct on its own ---------------------------------------------------------------------


def synth_static_assets(grant_uploads: bool = False, **settings) -> dict:
    def build(scope, stage):
        edge = AwsProvider(scope, "aws-edge", alias="edge", region="us-east-1")
        assets = StaticAssets(
            scope, "assets", StaticAssetsSettings(**settings), stage, edge=edge, dr=None, protect_from_deletion=False
        )
        if grant_uploads:
            assets.grant_uploads(SimpleNamespace(name="app-role", id="app-role"))

    return synth_construct(build)[1].json["resource"]


def test_a_custom_certificate_gets_tls_1_2_and_sni():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    resources = synth_static_assets(certificate_arn=arn, aliases=("assets.example.com",), waf_enabled=False)
    [dist] = resources["aws_cloudfront_distribution"].values()
    assert dist["aliases"] == ["assets.example.com"]
    assert dist["viewer_certificate"] == {
        "acm_certificate_arn": arn,
        "minimum_protocol_version": "TLSv1.2_2021",
        "ssl_support_method": "sni-only",
    }


def test_only_a_granted_role_may_write():
    assert "aws_iam_role_policy" not in synth_static_assets()
    [policy] = synth_static_assets(grant_uploads=True)["aws_iam_role_policy"].values()
    assert policy["role"] == "app-role"
