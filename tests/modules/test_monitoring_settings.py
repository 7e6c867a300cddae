"""[monitoring] settings: subscribers and the range of every threshold."""

from __future__ import annotations

import pytest

from tests.environments.stage_edits import rejection


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


@pytest.mark.parametrize(
    "field_name, value, allowed",
    [
        ("app_cpu_percent", 150.0, "1 to 100"),
        ("db_cpu_percent", 0.0, "1 to 100"),
        ("cache_memory_for_eviction_percent", 101.0, "1 to 100"),
        ("alb_5xx_percent", 0.0, "0.01 to 100"),
        ("db_free_storage_gib", 0.1, "0.5 to 10000"),
        ("target_response_time_seconds", 0.0, "0.05 to 60"),
        ("nat_port_allocation_errors", -1, "0 to 100000"),
        ("app_errors", -1, "0 to 1000000"),
        ("evaluation_periods", 0, "1 to 24"),
        ("unhealthy_hosts", 0, "1 to 100"),
    ],
)
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
