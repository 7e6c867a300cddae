"""[static_assets] and [monitoring]: the shipped values load, and each bad input is refused clearly."""

from __future__ import annotations

import copy

import pytest

from environments import load_stage, parse_stage
from environments.observability import MonitoringSection, StaticAssetsSection
from tests.environments.stage_edits import rejection, shipped


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_shipped_stages_have_both_sections(stage):
    config = load_stage(stage)
    assert isinstance(config.static_assets, StaticAssetsSection)
    assert isinstance(config.monitoring, MonitoringSection)


def test_every_field_has_a_default_so_a_stage_may_omit_the_tables():
    raw = copy.deepcopy(shipped("dev"))
    del raw["static_assets"], raw["monitoring"]
    config = parse_stage("dev", raw, "environments/dev.toml")
    assert config.static_assets == StaticAssetsSection() and config.monitoring == MonitoringSection()


def test_prod_has_subscribers_and_cloudfront():
    config = load_stage("prod")
    assert config.monitoring.alarm_emails and config.static_assets.cloudfront_enabled


def test_cloudfront_is_on_in_staging_and_prod_and_off_in_dev():
    assert {s: load_stage(s).static_assets.cloudfront_enabled for s in ("dev", "staging", "prod")} == {
        "dev": False, "staging": True, "prod": True}


# -- lifecycle ------------------------------------------------------------------------------------

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


@pytest.mark.parametrize("field_name, value, allowed", [
    ("noncurrent_version_expiration_days", 0, "1 to 3650"),
    ("abort_incomplete_multipart_days", 400, "1 to 365"),
    ("access_log_expiration_days", 0, "1 to 3650"),
])
def test_lifecycle_days_out_of_range_are_rejected(field_name, value, allowed):
    message = rejection("dev", "static_assets", **{field_name: value})
    assert f"static_assets.{field_name} = {value}: out of range; allowed: {allowed}" in message


# -- CloudFront and uploads -----------------------------------------------------------------------

def test_prod_without_cloudfront_is_rejected():
    message = rejection("prod", "static_assets", cloudfront_enabled=False)
    assert "environments/prod.toml: static_assets.cloudfront_enabled = False" in message
    assert "allowed: true in a production stage" in message


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


# -- monitoring -----------------------------------------------------------------------------------

def test_malformed_alarm_email_is_rejected():
    message = rejection("staging", "monitoring", alarm_emails=["oncall@example.com", "oncall.example.com"])
    assert "environments/staging.toml: monitoring.alarm_emails[1] = 'oncall.example.com': not an e-mail" in message
    assert "allowed: an address such as 'oncall@example.com'" in message
    assert "alarm_emails[0]" not in message


def test_email_with_a_space_is_rejected():
    message = rejection("staging", "monitoring", alarm_emails=["on call@example.com"])
    assert "monitoring.alarm_emails[0] = 'on call@example.com': not an e-mail address" in message


def test_duplicate_alarm_email_is_rejected():
    message = rejection("staging", "monitoring", alarm_emails=["a@example.com", "A@example.com"])
    assert "an address is listed twice; allowed: distinct addresses" in message


def test_prod_without_alarm_subscribers_is_rejected():
    message = rejection("prod", "monitoring", alarm_emails=[])
    assert "environments/prod.toml: monitoring.alarm_emails = []: nobody would hear a production alarm" in message


@pytest.mark.parametrize("field_name, value, allowed", [
    ("app_cpu_percent", 150.0, "1 to 100"),
    ("db_cpu_percent", 0.0, "1 to 100"),
    ("cache_memory_percent", 101.0, "1 to 100"),
    ("db_free_storage_gib", 0.1, "0.5 to 10000"),
    ("target_response_time_seconds", 0.0, "0.05 to 60"),
    ("nat_port_allocation_errors", -1, "0 to 100000"),
    ("evaluation_periods", 0, "1 to 24"),
    ("unhealthy_hosts", 0, "1 to 100"),
])
def test_threshold_out_of_range_is_rejected(field_name, value, allowed):
    message = rejection("staging", "monitoring", **{field_name: value})
    assert f"environments/staging.toml: monitoring.{field_name} = {value}: out of range; allowed: {allowed}" in message


def test_threshold_of_the_wrong_type_is_rejected():
    message = rejection("dev", "monitoring", app_cpu_percent="high")
    assert "monitoring.app_cpu_percent = 'high': wrong type or value; allowed: average app-server CPU %" in message


def test_unsupported_alarm_period_lists_the_allowed_periods():
    message = rejection("dev", "monitoring", period_seconds=120)
    assert "monitoring.period_seconds = 120: wrong type or value; allowed: 60 or 300" in message


def test_unknown_percentile_is_rejected():
    message = rejection("dev", "monitoring", target_response_time_statistic="p50")
    assert "monitoring.target_response_time_statistic = 'p50': wrong type or value; allowed: 'p95' or 'p99'" in message


def test_misspelt_threshold_is_reported_as_a_typo():
    message = rejection("dev", "monitoring", app_cpu_percnt=90)
    assert "monitoring.app_cpu_percnt = 90: unknown key (a typo?)" in message and "app_cpu_percent" in message
