"""[load_balancer] settings: the shipped values load, and what the ALB tier refuses, clearly."""

from __future__ import annotations

import copy

import pytest

from environments import load_stage, parse_stage
from tests.environments.stage_edits import rejection, shipped


def test_dev_serves_plain_http_without_waf_or_deletion_protection():
    lb = load_stage("dev").load_balancer
    assert not lb.https and not lb.waf_enabled and not lb.deletion_protection


def test_health_check_path_without_leading_slash_is_rejected():
    message = rejection("dev", "load_balancer", health_check_path="health")
    assert (
        "environments/dev.toml: load_balancer.health_check_path = 'health': not an HTTP path (no leading '/')"
        in message
    )
    assert "allowed: a path starting with '/'" in message


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:server-certificate/booking",
        "arn:aws:acm:eu-west-1:1234:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
        "booking.example.com",
    ],
)
def test_certificate_arn_that_is_not_an_acm_arn_is_rejected(arn):
    message = rejection("dev", "load_balancer", certificate_arn=arn)
    assert f"load_balancer.certificate_arn = {arn!r}: not an ACM certificate ARN" in message
    assert "allowed: arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>" in message


def test_certificate_from_another_region_is_rejected():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    message = rejection("dev", "load_balancer", certificate_arn=arn)
    assert "own region (eu-west-1)" in message and "allowed: an ACM certificate ARN in eu-west-1" in message


def test_an_acm_arn_in_the_stage_region_gives_dev_https():
    raw = copy.deepcopy(shipped("dev"))
    raw["load_balancer"]["certificate_arn"] = (
        "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    )
    assert parse_stage("dev", raw, "environments/dev.toml").load_balancer.https


def test_domain_without_hosted_zone_is_rejected():
    message = rejection("prod", "load_balancer", hosted_zone_name=None)
    assert "load_balancer.hosted_zone_name = None: domain_name and hosted_zone_name go together" in message


def test_domain_outside_its_zone_is_rejected():
    message = rejection("prod", "load_balancer", domain_name="booking.example.org")
    assert "load_balancer.domain_name = 'booking.example.org': not inside the zone 'example.com'" in message


def test_unknown_key_in_the_section_is_rejected():
    message = rejection("dev", "load_balancer", healthcheck_path="/health")
    assert "load_balancer.healthcheck_path = '/health': unknown key (a typo?)" in message
    assert "health_check_path" in message
