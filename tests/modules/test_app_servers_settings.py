"""[app_servers] settings: what the fleet refuses, each with file, field, value and what is allowed."""

from __future__ import annotations

import json

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


@pytest.mark.parametrize("instance_type", ["t3", "large", "t3-small", "T3.small", "t3.small.x", "mac2.metal"])
def test_instance_type_not_family_dot_size_is_rejected(instance_type):
    message = rejection("dev", "app_servers", instance_types=[instance_type])
    assert f"app_servers.instance_types = {instance_type!r}: not an EC2 instance type" in message
    assert "e.g. 't3.small' or 'm7i.large'" in message


def test_bad_ami_id_and_retention_are_rejected_together():
    message = rejection("dev", "app_servers", ami_id="ami-123", log_retention_days=10)
    assert "2 problem(s)" in message
    assert "app_servers.ami_id = 'ami-123': not an AMI id" in message
    assert "app_servers.log_retention_days = 10: CloudWatch Logs does not accept this retention" in message


def test_missing_artifact_bucket_is_rejected():
    message = rejection("dev", "app_servers", artifact_bucket=None)
    assert "app_servers.artifact_bucket = None: missing required value; allowed: the S3 bucket name" in message


# -- instance types: one architecture, one size --------------------------------------------------------


def test_an_arm64_type_in_an_x86_64_fleet_is_rejected():
    """Each AMI is built for one architecture (the fleet's Amazon Linux 2023 parameter is per architecture):
    an arm64 (Graviton) type in an x86_64 fleet would never boot it."""
    message = rejection("prod", "app_servers", instance_types=["m7i.large", "m7g.large"])
    assert (
        "environments/prod.toml: app_servers.instance_types = 'm7g.large': an arm64 instance type, the fleet's AMI is"
        " x86_64" in message
    )
    assert "allowed: x86_64 instance types, or architecture = 'arm64'" in message


def test_an_x86_64_type_in_an_arm64_fleet_is_rejected():
    message = rejection("prod", "app_servers", architecture="arm64", instance_types=["m7g.large", "m7i.large"])
    assert "app_servers.instance_types = 'm7i.large': an x86_64 instance type, the fleet's AMI is arm64" in message
    assert "names with 'g' after the generation" in message
    assert "'m7g.large'" not in message.split("allowed")[0]  # the Graviton type is accepted


def test_instance_types_of_different_sizes_are_rejected():
    """Every instance takes the same share of requests (round robin, requests per target): a mixed fleet
    must be of one size, or the larger types idle while the smaller ones saturate."""
    message = rejection("prod", "app_servers", instance_types=["m7i.large", "m6i.xlarge"])
    assert "app_servers.instance_types = ['m7i.large', 'm6i.xlarge']: sizes large, xlarge" in message
    assert "allowed: instance types of one size" in message


def test_a_type_listed_twice_and_an_empty_list_are_rejected():
    assert "an instance type is listed twice" in rejection(
        "prod", "app_servers", instance_types=["m7i.large", "m7i.large"]
    )
    assert "app_servers.instance_types = []: 0 instance types; allowed: 1 to 10" in rejection(
        "prod", "app_servers", instance_types=[]
    )


def test_the_architecture_rule_agrees_with_aws_for_every_known_instance_type():
    """ "Amazon EC2 instance type naming conventions" (https://docs.aws.amazon.com/ec2/latest/instancetypes/
    instance-type-names.html): after the series and generation, capability letters, "g" for AWS Graviton
    processors. Checked against the architectures DescribeInstanceTypes reports (moto ships AWS's list):
    wherever the rule gives an answer, AWS lists that architecture."""
    import gzip
    import importlib.resources

    from modules.app_servers import architecture_of

    data = importlib.resources.files("moto.ec2.resources").joinpath("instance_types.json.gz").read_bytes()
    known = json.loads(gzip.decompress(data))
    judged = {name: architecture_of(name) for name in known}
    wrong = {
        name: (guess, known[name]["ProcessorInfo"]["SupportedArchitectures"])
        for name, guess in judged.items()
        if guess is not None and guess not in known[name]["ProcessorInfo"]["SupportedArchitectures"]
    }
    assert not wrong
    assert sum(guess is not None for guess in judged.values()) > 1000  # the rule decides nearly all of them
    assert judged["m7g.large"] == "arm64" and judged["m7i.large"] == "x86_64" and judged["a1.large"] == "arm64"


# -- warm pool --------------------------------------------------------------------------------------------


def test_a_warm_pool_with_several_instance_types_is_refused():
    """Auto Scaling API Reference, PutWarmPool (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/
    API_PutWarmPool.html): "This operation cannot be called on an Auto Scaling group that has a mixed
    instances policy or a launch template or launch configuration that requests Spot Instances." moto does
    not enforce it (its PutWarmPool accepts such a group), so the loader does, before any Terraform."""
    message = rejection("prod", "app_servers", warm_pool=True)
    assert (
        "environments/prod.toml: app_servers.warm_pool = True: a warm pool and 3 instance types: AWS refuses a"
        " warm pool on a group with a mixed instances policy (Auto Scaling API Reference, PutWarmPool)" in message
    )
    assert "allowed: false with several instance_types, or a single instance type with warm_pool = true" in message


def test_the_construct_refuses_a_warm_pool_with_several_types_too():
    from modules.app_servers import AppServerSettings
    from modules.settings import InvalidSettings, require_valid

    settings = AppServerSettings(
        artifact_bucket="digital-booking-artifacts-test", instance_types=("m7i.large", "m6i.large"), warm_pool=True
    )
    with pytest.raises(InvalidSettings, match="PutWarmPool"):
        require_valid(settings, "eu-west-1")


def test_a_warm_pool_larger_than_the_group_is_refused():
    message = rejection("staging", "app_servers", warm_pool_min_size=9)
    assert "app_servers.warm_pool_min_size = 9: out of range; allowed: 0 to 4" in message


def test_a_launch_hook_shorter_than_the_grace_period_is_refused():
    """PutLifecycleHook HeartbeatTimeout: 30 to 7200 seconds; and a boot the hook would abandon before the
    health checks even count is a boot that never serves."""
    message = rejection("staging", "app_servers", boot_timeout_seconds=120, health_check_grace_seconds=300)
    assert "app_servers.boot_timeout_seconds = 120: shorter than health_check_grace_seconds (300)" in message
    assert "boot_timeout_seconds = 10: out of range; allowed: 30 to 7200" in rejection(
        "staging", "app_servers", boot_timeout_seconds=10, health_check_grace_seconds=0
    )


# -- predictive scaling and scheduled actions ---------------------------------------------------------------


def test_an_unknown_predictive_mode_is_refused():
    message = rejection("prod", "app_servers", predictive_scaling="ForecastAndscale")
    assert "app_servers.predictive_scaling = 'ForecastAndscale': wrong type or value" in message
    assert "'off', 'ForecastOnly' (forecasts to compare with the load) or 'ForecastAndScale'" in message


def schedule(**changes):
    return {"name": "morning", "recurrence": "0 7 * * MON-FRI", "min_size": 3, "max_size": 4, **changes}


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (schedule(recurrence="every morning"), "scheduled_actions[0].recurrence = 'every morning': not a cron"),
        (schedule(time_zone="CET+1"), "scheduled_actions[0].time_zone = 'CET+1': not an IANA time zone"),
        (schedule(max_size=9), "scheduled_actions[0].min_size = [3, 9]: min_size/max_size outside 0..max_size (4)"),
        (schedule(min_size=4, max_size=3), "min_size/max_size outside 0..max_size (4) or min above max"),
        (schedule(desired_capacity=1), "scheduled_actions[0].desired_capacity = 1: outside this action's"),
        (schedule(name="morning rush"), "scheduled_actions[0].name = 'morning rush': not a scheduled action name"),
        (schedule(min_sise=3), "app_servers.scheduled_actions[0].min_sise = 3: unknown key (a typo?)"),
        ({"name": "x", "min_size": 1, "max_size": 2}, "scheduled_actions[0].recurrence = None: missing required"),
    ],
)
def test_a_bad_scheduled_action_is_refused_with_its_index_and_field(action, expected):
    message = rejection("staging", "app_servers", scheduled_actions=[action])
    assert "environments/staging.toml: app_servers." in message and expected in message


def test_two_scheduled_actions_of_one_name_are_refused():
    message = rejection("staging", "app_servers", scheduled_actions=[schedule(), schedule()])
    assert "scheduled_actions[1].name = 'morning': used by another scheduled action" in message


def test_scheduled_actions_that_are_not_tables_are_refused():
    message = rejection("staging", "app_servers", scheduled_actions="0 7 * * *")
    assert "app_servers.scheduled_actions = '0 7 * * *': wrong type or value" in message
    assert "[[app_servers.scheduled_actions]] tables" in message
