"""[load_balancer] and [app_servers]: shipped values load, and each kind of bad input is refused clearly."""

from __future__ import annotations

import copy

import pytest

from environments import load_stage, parse_stage
from tests.environments.stage_edits import rejection, shipped


def test_prod_serves_https_from_its_example_domain():
    lb = load_stage("prod").load_balancer
    assert lb.https and lb.domain_name.endswith("." + lb.hosted_zone_name)
    assert lb.waf_enabled and lb.deletion_protection


def test_dev_serves_plain_http_without_waf_or_deletion_protection():
    lb = load_stage("dev").load_balancer
    assert not lb.https and not lb.waf_enabled and not lb.deletion_protection


def test_prod_fleet_survives_an_instance_loss():
    assert load_stage("prod").app_servers.min_size >= 2


def test_min_size_above_max_size_is_rejected():
    message = rejection("staging", "app_servers", min_size=5, max_size=3)
    assert "environments/staging.toml: app_servers.min_size = 5: greater than max_size (3)" in message
    assert "allowed: at most max_size (3)" in message


def test_desired_capacity_outside_min_and_max_is_rejected():
    message = rejection("staging", "app_servers", min_size=2, max_size=4, desired_capacity=7)
    assert "app_servers.desired_capacity = 7: outside min_size..max_size (2..4); allowed: 2 to 4" in message


def test_desired_capacity_below_min_is_rejected():
    message = rejection("dev", "app_servers", min_size=1, desired_capacity=0)
    assert "app_servers.desired_capacity = 0" in message and "allowed: 1 to 2" in message


def test_health_check_path_without_leading_slash_is_rejected():
    message = rejection("dev", "load_balancer", health_check_path="health")
    assert "environments/dev.toml: load_balancer.health_check_path = 'health': not an HTTP path (no leading '/')" in message
    assert "allowed: a path starting with '/'" in message


@pytest.mark.parametrize("port", [80, 0, 70000])
def test_app_port_out_of_range_is_rejected(port):
    message = rejection("dev", "app_servers", app_port=port)
    assert f"environments/dev.toml: app_servers.app_port = {port}: out of range; allowed: 1024 to 65535" in message


def test_app_port_of_the_wrong_type_is_rejected():
    message = rejection("dev", "app_servers", app_port="8080")
    assert "app_servers.app_port = '8080': wrong type or value; allowed: a TCP port 1024-65535" in message


@pytest.mark.parametrize("instance_type", ["t3", "large", "t3-small", "T3.small", "t3.small.x"])
def test_instance_type_not_family_dot_size_is_rejected(instance_type):
    message = rejection("dev", "app_servers", instance_type=instance_type)
    assert f"app_servers.instance_type = {instance_type!r}: not an EC2 instance type" in message
    assert "allowed: family.size, e.g. 't3.small'" in message


def test_prod_without_a_certificate_source_is_rejected():
    message = rejection("prod", "load_balancer", domain_name=None, hosted_zone_name=None)
    assert ("environments/prod.toml: load_balancer.certificate_arn = None: a production stage must serve HTTPS"
            in message)
    assert "allowed: certificate_arn (an ACM ARN) or domain_name + hosted_zone_name in a production stage" in message


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::123456789012:server-certificate/booking",
    "arn:aws:acm:eu-west-1:1234:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "booking.example.com",
])
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
    raw["load_balancer"]["certificate_arn"] = \
        "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    assert parse_stage("dev", raw, "environments/dev.toml").load_balancer.https


def test_domain_without_hosted_zone_is_rejected():
    message = rejection("prod", "load_balancer", hosted_zone_name=None)
    assert "load_balancer.hosted_zone_name = None: domain_name and hosted_zone_name go together" in message


def test_domain_outside_its_zone_is_rejected():
    message = rejection("prod", "load_balancer", domain_name="booking.example.org")
    assert "load_balancer.domain_name = 'booking.example.org': not inside the zone 'example.com'" in message


def test_prod_without_waf_or_deletion_protection_is_rejected():
    message = rejection("prod", "load_balancer", waf_enabled=False, deletion_protection=False)
    assert "load_balancer.waf_enabled = False: a production ALB must sit behind the WAF; allowed: true" in message
    assert "load_balancer.deletion_protection = False: a production ALB must not be deletable" in message


def test_prod_with_a_single_instance_is_rejected():
    message = rejection("prod", "app_servers", min_size=1, desired_capacity=1)
    assert "environments/prod.toml: app_servers.min_size = 1: a production fleet must survive one instance's loss" in message
    assert "allowed: at least 2 in a production stage" in message


def test_bad_ami_id_and_retention_are_rejected_together():
    message = rejection("dev", "app_servers", ami_id="ami-123", log_retention_days=10)
    assert "2 problem(s)" in message
    assert "app_servers.ami_id = 'ami-123': not an AMI id" in message
    assert "app_servers.log_retention_days = 10: CloudWatch Logs does not accept this retention" in message


def test_missing_artifact_bucket_is_rejected():
    message = rejection("dev", "app_servers", artifact_bucket=None)
    assert "app_servers.artifact_bucket = None: missing required value; allowed: the S3 bucket name" in message


def test_unknown_key_in_the_section_is_rejected():
    message = rejection("dev", "load_balancer", healthcheck_path="/health")
    assert "load_balancer.healthcheck_path = '/health': unknown key (a typo?)" in message
    assert "health_check_path" in message
