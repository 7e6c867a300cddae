"""[static_assets] settings: lifecycle days S3 refuses, CloudFront certificates and aliases."""

from __future__ import annotations

import pytest

from environments import load_stage
from tests.environments.stage_edits import rejection


def test_cloudfront_is_on_in_staging_and_prod_and_off_in_dev():
    assert {s: load_stage(s).static_assets.cloudfront_enabled for s in ("dev", "staging", "prod")} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }


def test_archive_before_standard_ia_is_rejected_as_out_of_order():
    message = rejection("staging", "static_assets", transition_to_ia_days=120, transition_to_archive_days=90)
    assert "environments/staging.toml: static_assets.transition_to_archive_days = 90: out of order" in message
    assert "allowed: 150 to 3650 (transition_to_ia_days + 30 or more)" in message


def test_archive_less_than_30_days_after_standard_ia_is_rejected():
    message = rejection("prod", "static_assets", transition_to_ia_days=60, transition_to_archive_days=80)
    assert "static_assets.transition_to_archive_days = 80: out of order" in message
    assert "allowed: 90 to 3650" in message


def test_standard_ia_before_the_s3_minimum_of_30_days_is_rejected():
    message = rejection("dev", "static_assets", transition_to_ia_days=10)
    assert "environments/dev.toml: static_assets.transition_to_ia_days = 10:" in message
    assert "S3 refuses a Standard-IA transition before 30 days; allowed: 30 to 3650" in message


def test_unknown_archive_class_lists_the_allowed_classes():
    message = rejection("dev", "static_assets", archive_storage_class="DEEP_ARCHIVE")
    assert "static_assets.archive_storage_class = 'DEEP_ARCHIVE': wrong type or value" in message
    assert "'GLACIER_IR' (Glacier Instant Retrieval" in message


@pytest.mark.parametrize(
    "field_name, value, allowed",
    [
        ("noncurrent_version_expiration_days", 0, "1 to 3650"),
        ("abort_incomplete_multipart_days", 400, "1 to 365"),
        ("access_log_expiration_days", 0, "1 to 3650"),
    ],
)
def test_lifecycle_days_out_of_range_are_rejected(field_name, value, allowed):
    message = rejection("dev", "static_assets", **{field_name: value})
    assert f"static_assets.{field_name} = {value}: out of range; allowed: {allowed}" in message


def test_certificate_outside_us_east_1_is_rejected():
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    message = rejection("staging", "static_assets", certificate_arn=arn, aliases=["assets.example.com"])
    assert f"static_assets.certificate_arn = '{arn}': not an ACM certificate ARN in us-east-1" in message


def test_aliases_without_a_certificate_are_rejected():
    message = rejection("staging", "static_assets", aliases=["assets.example.com"])
    assert "static_assets.aliases = ['assets.example.com']: aliases and certificate_arn go together" in message


def test_malformed_alias_is_rejected():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    message = rejection("staging", "static_assets", certificate_arn=arn, aliases=["Assets_Example"])
    assert "static_assets.aliases[0] = 'Assets_Example': not a DNS name" in message


def test_upload_prefix_must_be_a_folder_prefix():
    message = rejection("dev", "static_assets", upload_prefix="*")
    assert "static_assets.upload_prefix = '*': not a key prefix" in message and "ending in '/'" in message


def test_assets_domain_and_zone_go_together_and_the_domain_is_in_the_zone():
    message = rejection("staging", "static_assets", domain_name="assets.example.com")
    assert "static_assets.hosted_zone_name = None: domain_name and hosted_zone_name go together" in message
    message = rejection("staging", "static_assets", domain_name="assets.example.org", hosted_zone_name="example.com")
    assert "static_assets.domain_name = 'assets.example.org': not inside the zone 'example.com'" in message


def test_two_certificate_sources_are_refused():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    message = rejection("prod", "static_assets", certificate_arn=arn, aliases=["assets.example.com"])
    assert "static_assets.domain_name = 'assets.example.com': two certificate sources" in message


def test_the_existing_certificate_path_still_satisfies_production():
    """certificate_arn + aliases (an existing us-east-1 certificate) is a custom certificate too."""
    from environments import parse_stage
    from tests.environments.stage_edits import shipped

    raw = shipped("prod")
    for key in ("domain_name", "hosted_zone_name"):
        raw["static_assets"].pop(key)
    raw["static_assets"]["certificate_arn"] = (
        "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    )
    raw["static_assets"]["aliases"] = ["assets.example.com"]
    assert parse_stage("prod", raw, "environments/prod.toml").static_assets.custom_certificate


def test_waf_log_retention_must_be_one_cloudwatch_accepts():
    assert "static_assets.waf_log_retention_days = 42: CloudWatch Logs does not accept this retention" in rejection(
        "staging", "static_assets", waf_log_retention_days=42
    )
