"""[app_servers] settings: what the fleet refuses, each with file, field, value and what is allowed."""

from __future__ import annotations

import pytest

from tests.environments.stage_edits import rejection


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


def test_bad_ami_id_and_retention_are_rejected_together():
    message = rejection("dev", "app_servers", ami_id="ami-123", log_retention_days=10)
    assert "2 problem(s)" in message
    assert "app_servers.ami_id = 'ami-123': not an AMI id" in message
    assert "app_servers.log_retention_days = 10: CloudWatch Logs does not accept this retention" in message


def test_missing_artifact_bucket_is_rejected():
    message = rejection("dev", "app_servers", artifact_bucket=None)
    assert "app_servers.artifact_bucket = None: missing required value; allowed: the S3 bucket name" in message
