"""The emulator gaps the sandbox explains in its drift report (tools/sandbox.py EMULATOR_GAPS): each names an
attribute a stage sets, and each is still true of moto 5.2.5 (so an entry goes once moto learns it)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tools import sandbox


def test_every_gap_names_an_attribute_a_stage_sets(stacks):
    for (rtype, attribute), reason in sandbox.EMULATOR_GAPS.items():
        assert "moto" in reason
        assert any(attribute in body for stack in stacks.values() for body in stack.resources(rtype).values()), (
            rtype,
            attribute,
        )


@pytest.fixture
def group():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-west-1")
        template = ec2.create_launch_template(
            LaunchTemplateName="probe", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}
        )["LaunchTemplate"]
        autoscaling = boto3.client("autoscaling", region_name="eu-west-1")
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="probe",
            MinSize=0,
            MaxSize=1,
            AvailabilityZones=["eu-west-1a"],
            LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": "1"},
            InstanceMaintenancePolicy={"MinHealthyPercentage": 100, "MaxHealthyPercentage": 110},
        )
        yield autoscaling


def test_moto_does_not_keep_the_instance_maintenance_policy(group):
    (described,) = group.describe_auto_scaling_groups(AutoScalingGroupNames=["probe"])["AutoScalingGroups"]
    assert "InstanceMaintenancePolicy" not in described


def test_moto_does_not_start_an_instance_refresh(group):
    with pytest.raises(NotImplementedError):
        group.start_instance_refresh(AutoScalingGroupName="probe")
