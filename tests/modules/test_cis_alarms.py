"""The CIS AWS Foundations monitoring alarms: each metric filter is the documented pattern, matches the
CloudTrail record it is for and not a harmless one (evaluated by tools/log_filter.py), and has an alarm
to the security topic.

Patterns: Security Hub user guide, "Amazon CloudWatch controls" (CloudWatch.1-14,
https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html; "fails if the exact
metric filters prescribed by CIS are not used"), and for Organizations changes CIS AWS Foundations
Benchmark v1.4.0 recommendation 4.15 (no Security Hub control). Records: tests/modules/cloudtrail_events.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.cis_alarms import CIS_CONTROLS, CIS_NAMESPACE, CisControl
from tests.modules.cloudtrail_events import DEPLOY_ROLE, ROOT, api_call, console_sign_in, denied
from tests.tf_json import refers_to
from tools.log_filter import matches

SECURITY_HUB_PAGE = "Security Hub user guide, Amazon CloudWatch controls"
CIS_PAGE = "CIS AWS Foundations Benchmark v1.4.0, 4.15"

#: control key -> (CIS control, page, the pattern as the page prints it)
DOCUMENTED: dict[str, tuple[str, str, str]] = {
    "unauthorized-api-calls": (
        "CloudWatch.2 / CIS 3.1",
        SECURITY_HUB_PAGE,
        '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    ),
    "console-sign-in-without-mfa": (
        "CloudWatch.3 / CIS 3.2",
        SECURITY_HUB_PAGE,
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    ),
    "root-account-usage": (
        "CloudWatch.1 / CIS 3.3",
        SECURITY_HUB_PAGE,
        '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
    ),
    "iam-policy-changes": (
        "CloudWatch.4 / CIS 3.4",
        SECURITY_HUB_PAGE,
        "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || "
        "($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || "
        "($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || "
        "($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || "
        "($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || "
        "($.eventName=DetachGroupPolicy)}",
    ),
    "cloudtrail-configuration-changes": (
        "CloudWatch.5 / CIS 3.5",
        SECURITY_HUB_PAGE,
        "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
        "($.eventName=StartLogging) || ($.eventName=StopLogging)}",
    ),
    "console-authentication-failures": (
        "CloudWatch.6 / CIS 3.6",
        SECURITY_HUB_PAGE,
        '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    ),
    "customer-managed-key-disabled-or-deleted": (
        "CloudWatch.7 / CIS 3.7",
        SECURITY_HUB_PAGE,
        "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
    ),
    "s3-bucket-policy-changes": (
        "CloudWatch.8 / CIS 3.8",
        SECURITY_HUB_PAGE,
        "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || "
        "($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
        "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || "
        "($.eventName=DeleteBucketReplication))}",
    ),
    "config-changes": (
        "CloudWatch.9 / CIS 3.9",
        SECURITY_HUB_PAGE,
        "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
        "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
        "($.eventName=PutConfigurationRecorder))}",
    ),
    "security-group-changes": (
        "CloudWatch.10 / CIS 3.10",
        SECURITY_HUB_PAGE,
        "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || "
        "($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || "
        "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
    ),
    "network-acl-changes": (
        "CloudWatch.11 / CIS 3.11",
        SECURITY_HUB_PAGE,
        "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || "
        "($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || "
        "($.eventName=ReplaceNetworkAclAssociation)}",
    ),
    "network-gateway-changes": (
        "CloudWatch.12 / CIS 3.12",
        SECURITY_HUB_PAGE,
        "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
        "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
        "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    ),
    "route-table-changes": (
        "CloudWatch.13 / CIS 3.13",
        SECURITY_HUB_PAGE,
        "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || "
        "($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || "
        "($.eventName=DisassociateRouteTable)}",
    ),
    "vpc-changes": (
        "CloudWatch.14 / CIS 3.14",
        SECURITY_HUB_PAGE,
        "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
        "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
        "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
        "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || "
        "($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
    ),
    "organizations-changes": (
        "CIS 4.15",
        CIS_PAGE,
        '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || '
        '($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || '
        '($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || '
        '($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || '
        '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || '
        '($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || '
        '($.eventName = "EnablePolicyType") || '
        '($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || '
        '($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || '
        '($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }',
    ),
}

#: control key -> (the record it is for, a harmless record that must not count)
EVENTS: dict[str, tuple[dict, dict]] = {
    "unauthorized-api-calls": (
        denied("s3.amazonaws.com", "ListBuckets", "AccessDenied"),
        api_call(
            "cloudtrail.amazonaws.com",
            "UpdateTrail",
            errorCode="TrailNotFoundException",
            errorMessage="Unknown trail: myTrail2 for the user: 111122223333",
        ),
    ),
    "console-sign-in-without-mfa": (console_sign_in(mfa=False), console_sign_in(mfa=True)),
    "root-account-usage": (
        console_sign_in(identity=ROOT, mfa=True),
        console_sign_in(mfa=False),  # the same sign-in by an IAM user
    ),
    "iam-policy-changes": (
        api_call("iam.amazonaws.com", "PutRolePolicy", requestParameters={"roleName": "app", "policyName": "x"}),
        api_call("iam.amazonaws.com", "GetRolePolicy", read_only=True, requestParameters={"roleName": "app"}),
    ),
    "cloudtrail-configuration-changes": (
        api_call(
            "cloudtrail.amazonaws.com", "StopLogging", requestParameters={"name": "digital-booking-account-trail"}
        ),
        api_call("cloudtrail.amazonaws.com", "GetTrailStatus", read_only=True),
    ),
    "console-authentication-failures": (console_sign_in(mfa=True, success=False), console_sign_in(mfa=True)),
    "customer-managed-key-disabled-or-deleted": (
        api_call("kms.amazonaws.com", "ScheduleKeyDeletion", requestParameters={"pendingWindowInDays": 7}),
        api_call("kms.amazonaws.com", "DisableKeyRotation"),  # not DisableKey: names match exactly
    ),
    "s3-bucket-policy-changes": (
        api_call("s3.amazonaws.com", "PutBucketPolicy", requestParameters={"bucketName": "assets"}),
        api_call("s3.amazonaws.com", "GetBucketPolicy", read_only=True, requestParameters={"bucketName": "assets"}),
    ),
    "config-changes": (
        api_call("config.amazonaws.com", "StopConfigurationRecorder"),
        api_call("config.amazonaws.com", "DescribeConfigurationRecorderStatus", read_only=True),
    ),
    "security-group-changes": (
        api_call(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            requestParameters={
                "groupId": "sg-007c4cf0863811b58",
                "ipPermissions": {
                    "items": [
                        {
                            "ipProtocol": "tcp",
                            "fromPort": 22,
                            "toPort": 22,
                            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                        }
                    ]
                },
            },
            responseElements={"requestId": "8e5fe0d0-aa34-4b7f-a87d-2b1bcdd9a4c5", "_return": True},
        ),
        api_call("ec2.amazonaws.com", "DescribeSecurityGroups", read_only=True),
    ),
    "network-acl-changes": (
        api_call("ec2.amazonaws.com", "ReplaceNetworkAclEntry"),
        api_call("ec2.amazonaws.com", "DescribeNetworkAcls", read_only=True),
    ),
    "network-gateway-changes": (
        api_call("ec2.amazonaws.com", "AttachInternetGateway"),
        api_call("ec2.amazonaws.com", "CreateNatGateway"),  # a NAT gateway is not a network gateway here
    ),
    "route-table-changes": (
        api_call("ec2.amazonaws.com", "CreateRoute", identity=DEPLOY_ROLE),
        api_call("ec2.amazonaws.com", "DescribeRouteTables", read_only=True),
    ),
    "vpc-changes": (
        api_call("ec2.amazonaws.com", "CreateVpcPeeringConnection"),
        api_call("ec2.amazonaws.com", "DescribeVpcs", read_only=True),
    ),
    "organizations-changes": (
        api_call("organizations.amazonaws.com", "LeaveOrganization", awsRegion="us-east-1"),
        api_call("organizations.amazonaws.com", "DescribeOrganization", read_only=True, awsRegion="us-east-1"),
    ),
}


def control_id(control: CisControl) -> str:
    return f"{DOCUMENTED[control.key][0]} {control.key}"


def test_the_fifteen_cis_controls_are_all_here_once():
    assert len(CIS_CONTROLS) == 15
    assert [c.key for c in CIS_CONTROLS] == list(DOCUMENTED) == list(EVENTS)
    assert len({c.metric for c in CIS_CONTROLS}) == len({c.alarm_name for c in CIS_CONTROLS}) == 15


@pytest.mark.parametrize("control", CIS_CONTROLS, ids=control_id)
def test_each_filter_is_the_documented_pattern(control):
    """The pattern of each control, character for character as its page prints it (DOCUMENTED names the
    CIS control and the page)."""
    _, _, documented = DOCUMENTED[control.key]
    assert control.pattern == documented


@pytest.mark.parametrize("control", CIS_CONTROLS, ids=control_id)
def test_each_filter_counts_the_event_it_is_for_and_not_a_harmless_one(control):
    """The CloudTrail record of the activity the control names is counted; a harmless record of the same
    service (a read, a near name, the other principal type) is not."""
    alarming, harmless = EVENTS[control.key]
    assert matches(control.pattern, alarming), f"{control.key} missed the event it is for"
    assert not matches(control.pattern, harmless), f"{control.key} counted a harmless event"


@pytest.mark.parametrize(
    "record",
    [
        denied("ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation"),
        denied("sts.amazonaws.com", "AssumeRole", "AccessDenied"),
        denied("kms.amazonaws.com", "Decrypt", "AccessDeniedException"),
    ],
    ids=["ec2-client-unauthorized-operation", "iam-sts-access-denied", "access-denied-exception"],
)
def test_unauthorized_calls_of_every_service_spelling_count(record):
    """CloudWatch.2 / CIS 3.1: EC2 logs Client.UnauthorizedOperation, IAM and STS AccessDenied, others
    AccessDeniedException: the two wildcards cover all three."""
    (control,) = [c for c in CIS_CONTROLS if c.key == "unauthorized-api-calls"]
    assert matches(control.pattern, record)


@pytest.mark.parametrize(
    "record",
    [
        {**console_sign_in(identity=ROOT, mfa=True), "userIdentity": {**ROOT, "invokedBy": "support.amazonaws.com"}},
        api_call("cloudtrail.amazonaws.com", "RotateDigestKey", identity=ROOT, eventType="AwsServiceEvent"),
    ],
    ids=["invoked-by-a-service", "service-event"],
)
def test_root_usage_ignores_what_aws_services_do_as_root(record):
    """CloudWatch.1 / CIS 3.3: calls an AWS service made (invokedBy) and service events are not root use."""
    (control,) = [c for c in CIS_CONTROLS if c.key == "root-account-usage"]
    assert not matches(control.pattern, record)


def test_a_failed_sign_in_without_mfa_is_an_authentication_failure_not_a_sign_in_without_mfa():
    """CloudWatch.3 counts successful IAM-user sign-ins only; CloudWatch.6 counts the failure."""
    failed = console_sign_in(mfa=False, success=False)
    by_key = {c.key: c for c in CIS_CONTROLS}
    assert not matches(by_key["console-sign-in-without-mfa"].pattern, failed)
    assert matches(by_key["console-authentication-failures"].pattern, failed)


# -- synthesized: filters on the trail's log group, alarms to the security topic ------------------------


def test_every_control_is_a_metric_filter_on_the_trail_log_group(prod_security):
    filters = {f["name"]: f for f in prod_security.resources("aws_cloudwatch_log_metric_filter").values()}
    (trail,) = prod_security.resources("aws_cloudtrail").values()
    for control in CIS_CONTROLS:
        found = filters[control.alarm_name]
        assert found["pattern"] == DOCUMENTED[control.key][2]
        [group_name] = [
            n
            for n in prod_security.resources("aws_cloudwatch_log_group")
            if refers_to(found["log_group_name"], "aws_cloudwatch_log_group", n)
        ]
        assert refers_to(trail["cloud_watch_logs_group_arn"], "aws_cloudwatch_log_group", group_name)
        transformation = found["metric_transformation"]
        assert transformation == {"name": control.metric, "namespace": CIS_NAMESPACE, "value": "1"}


def test_every_control_alarms_the_security_topic_on_a_single_event(prod_security):
    """The Security Hub pages' remediation: Sum over 300 s, >= 1, an action to an SNS topic."""
    alarms = {a["alarm_name"]: a for a in prod_security.resources("aws_cloudwatch_metric_alarm").values()}
    (topic_name,) = prod_security.resources("aws_sns_topic")
    for control in CIS_CONTROLS:
        alarm = alarms[control.alarm_name]
        assert (alarm["namespace"], alarm["metric_name"]) == (CIS_NAMESPACE, control.metric)
        assert alarm["statistic"] == "Sum" and alarm["period"] == 300 and alarm["evaluation_periods"] == 1
        assert alarm["threshold"] == 1 and alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["treat_missing_data"] == "notBreaching"
        [action] = alarm["alarm_actions"]
        assert refers_to(action, "aws_sns_topic", topic_name)
        assert control.response.split(":")[0] in alarm["alarm_description"]


def test_every_account_has_the_fifteen_alarms(home_security_stack):
    """Every shipped account lists one region, its home region: the trail and its alarms are there
    (tests/stacks/test_security_stack.py shows a second region gets neither)."""
    assert len(home_security_stack.resources("aws_cloudwatch_log_metric_filter")) == 15
    assert len(home_security_stack.resources("aws_cloudwatch_metric_alarm")) == 15


def test_the_readme_says_what_each_alarm_means_and_what_to_do():
    """A newcomer paged by an alarm finds it in the README, with its meaning and the response."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for control in CIS_CONTROLS:
        assert f"| `{control.key}` |" in readme, control.key
        assert control.means in readme and control.response in readme, control.key
