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


#: From a real run (`make test`, 2026-11-29): terraform destroy of a stack with network ACL rules.
ACL_ENTRY_RACE = (
    "\nError: deleting EC2 Network ACL Rule (nacl-1712488046): operation error EC2: DeleteNetworkAclEntry, exceeded "
    "maximum number of attempts, 2, https response error StatusCode: 500, RequestID: , error while fetching xml "
    "error response code: XML syntax error on line 2: unquoted or missing attribute value in element\n"
)


def test_a_network_acl_rule_delete_lost_in_motos_race_is_retried():
    """moto 5.2.5's DeleteNetworkAclEntry looks the entry up with a bare next() over the ACL's entry list
    (moto/ec2/models/network_acls.py) while a parallel delete removes another entry from that list: the
    lookup can miss and the request answers HTTP 500. The rule is still there: destroy runs again."""
    assert sandbox.acl_entry_race(ACL_ENTRY_RACE)
    assert sandbox.acl_entry_race(ACL_ENTRY_RACE * 2)


def test_other_destroy_failures_are_not_taken_for_the_race():
    other = "\nError: deleting EC2 Subnet (subnet-0123): operation error EC2: DeleteSubnet, StatusCode: 400\n"
    assert not sandbox.acl_entry_race(other)
    assert not sandbox.acl_entry_race(ACL_ENTRY_RACE + other)
    assert not sandbox.acl_entry_race("")


def test_moto_still_looks_acl_entries_up_with_a_bare_next():
    """The race's cause, read from moto: when moto stops using a bare next() there, the retry can go."""
    import inspect

    from moto.ec2.models.network_acls import NetworkAclBackend

    source = inspect.getsource(NetworkAclBackend.delete_network_acl_entry)
    assert "next(" in source and "None)" not in source
