"""The CIS AWS Foundations Benchmark monitoring controls: a metric filter on the account trail's
log group and an alarm to the security topic for each.

The filter patterns are the ones Security Hub's CloudWatch.1-14 controls prescribe, character for
character (Security Hub user guide, "Amazon CloudWatch controls",
https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html: the check "fails
if the exact metric filters prescribed by CIS are not used"), plus CIS 4.15 (AWS Organizations
changes), which has no Security Hub control. Each alarm follows those pages' remediation: metric
value 1, the Sum over 5 minutes ``>= 1``, an action to an SNS topic.

:data:`CIS_CONTROLS` is also what the README's alarm table, the stage dashboards' security row
(:class:`CisDashboardRow`) and the tests read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from modules.kit import StageContext, Tier
from modules.security_baseline import BASELINE_NAME, SecurityBaselineSettings

#: The CloudWatch namespace of the CIS metrics (any namespace satisfies Security Hub; this one groups them).
CIS_NAMESPACE = "DigitalBooking/CIS"
CIS_PERIOD_SECONDS = 300


@dataclass(frozen=True)
class CisControl:
    """One CIS monitoring control: its filter, and what its alarm means."""

    #: Metric filter, metric and alarm name part, e.g. ``root-account-usage``.
    key: str
    #: The CloudWatch metric the filter counts into.
    metric: str
    title: str
    #: Where it comes from: CIS recommendation numbers (v1.2.0 / v1.4.0) and the Security Hub control.
    cis: str
    security_hub: str | None
    #: The filter pattern, exactly as documented.
    pattern: str
    #: What a firing alarm means, and what to do (README and the alarm's description).
    means: str
    response: str

    @property
    def alarm_name(self) -> str:
        return f"{BASELINE_NAME}-cis-{self.key}"


CIS_CONTROLS: tuple[CisControl, ...] = (
    CisControl(
        "unauthorized-api-calls",
        "UnauthorizedApiCalls",
        "Unauthorized API calls",
        "CIS v1.2.0 3.1, v1.4.0 4.1",
        "CloudWatch.2",
        '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
        "A call was refused for lack of permission: a probe with stolen credentials, or a role missing a permission",
        "Find the calls in CloudTrail (errorCode AccessDenied... or ...UnauthorizedOperation): who, from where, what."
        " Expected after a deploy: fix the role. Unknown principal or address: treat as compromised credentials",
    ),
    CisControl(
        "console-sign-in-without-mfa",
        "ConsoleSignInWithoutMfa",
        "Console sign-in without MFA",
        "CIS v1.2.0 3.2, v1.4.0 4.2",
        "CloudWatch.3",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        "An IAM user signed in to the console without MFA",
        "Ask the user; require MFA for them (an IAM policy denying everything without aws:MultiFactorAuthPresent)."
        " If nobody signed in: disable the user's password and rotate its keys",
    ),
    CisControl(
        "root-account-usage",
        "RootAccountUsage",
        "Root account usage",
        "CIS v1.2.0 1.1 and 3.3, v1.4.0 1.7 and 4.3",
        "CloudWatch.1",
        '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
        "The account's root user signed in or made a call",
        "Page the account owner: the root user is for break-glass tasks only. Unplanned: change the root"
        " password, check its MFA device, look for new users, keys and roles",
    ),
    CisControl(
        "iam-policy-changes",
        "IamPolicyChanges",
        "IAM policy changes",
        "CIS v1.2.0 3.4, v1.4.0 4.4",
        "CloudWatch.4",
        "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy)"
        " || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy)"
        " || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion)"
        " || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy)"
        " || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy)"
        " || ($.eventName=DetachGroupPolicy)}",
        "An IAM policy was created, changed, attached or detached",
        "Match it to a deploy (the CI role during a terraform apply is expected). Anything else: review the"
        " policy's permissions and who made the change",
    ),
    CisControl(
        "cloudtrail-configuration-changes",
        "CloudTrailConfigurationChanges",
        "CloudTrail configuration changes",
        "CIS v1.2.0 3.5, v1.4.0 4.5",
        "CloudWatch.5",
        "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail)"
        " || ($.eventName=StartLogging) || ($.eventName=StopLogging)}",
        "A trail was created, changed, deleted, started or stopped: someone may be blinding the audit log",
        "Check the account trail still logs (CloudTrail console, or the security stack's plan shows no drift);"
        " an unplanned StopLogging or DeleteTrail is an incident",
    ),
    CisControl(
        "console-authentication-failures",
        "ConsoleAuthenticationFailures",
        "Console authentication failures",
        "CIS v1.2.0 3.6, v1.4.0 4.6",
        "CloudWatch.6",
        '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
        "A console sign-in failed",
        "One is a typo; several for one user or from one address is password guessing: check the source"
        " addresses, lock the user's password if needed",
    ),
    CisControl(
        "customer-managed-key-disabled-or-deleted",
        "CustomerManagedKeyDisabledOrScheduledForDeletion",
        "Disabling or scheduled deletion of customer-managed keys",
        "CIS v1.2.0 3.7, v1.4.0 4.7",
        "CloudWatch.7",
        "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
        "A KMS key was disabled or scheduled for deletion: the data it encrypts becomes unreadable",
        "Unless planned, cancel it at once (kms cancel-key-deletion / enable-key): deletion waits 30 days,"
        " then the data is lost for good",
    ),
    CisControl(
        "s3-bucket-policy-changes",
        "S3BucketPolicyChanges",
        "S3 bucket policy changes",
        "CIS v1.2.0 3.8, v1.4.0 4.8",
        "CloudWatch.8",
        "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy)"
        " || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication)"
        " || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle)"
        " || ($.eventName=DeleteBucketReplication))}",
        "A bucket's ACL, policy, CORS, lifecycle or replication changed",
        "Match it to a deploy; otherwise check the bucket is still private (public access block, policy) and"
        " revert with terraform apply",
    ),
    CisControl(
        "config-changes",
        "ConfigChanges",
        "AWS Config changes",
        "CIS v1.2.0 3.9, v1.4.0 4.9",
        "CloudWatch.9",
        "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)"
        " || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel)"
        " || ($.eventName=PutConfigurationRecorder))}",
        "AWS Config recording or delivery was stopped or changed: Security Hub loses its view of the account",
        "Check the recorder is recording (config describe-configuration-recorder-status); re-apply the"
        " security stack if not",
    ),
    CisControl(
        "security-group-changes",
        "SecurityGroupChanges",
        "Security group changes",
        "CIS v1.2.0 3.10, v1.4.0 4.10",
        "CloudWatch.10",
        "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress)"
        " || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress)"
        " || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
        "A security group or one of its rules was created, widened or removed",
        "Match it to a deploy; a rule added by hand (0.0.0.0/0 on 22 or a data port) is reverted by terraform"
        " apply; find who added it",
    ),
    CisControl(
        "network-acl-changes",
        "NetworkAclChanges",
        "Network ACL changes",
        "CIS v1.2.0 3.11, v1.4.0 4.11",
        "CloudWatch.11",
        "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl)"
        " || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry)"
        " || ($.eventName=ReplaceNetworkAclAssociation)}",
        "A network ACL or one of its entries changed (the platform manages none by hand)",
        "Unexpected: revert (terraform plan shows the drift) and find who changed it",
    ),
    CisControl(
        "network-gateway-changes",
        "NetworkGatewayChanges",
        "Network gateway changes",
        "CIS v1.2.0 3.12, v1.4.0 4.12",
        "CloudWatch.12",
        "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway)"
        " || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway)"
        " || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
        "An internet or customer gateway was created, attached, detached or deleted: a new way in or out",
        "Match it to a deploy of a stage's network; otherwise detach and investigate",
    ),
    CisControl(
        "route-table-changes",
        "RouteTableChanges",
        "Route table changes",
        "CIS v1.2.0 3.13, v1.4.0 4.13",
        "CloudWatch.13",
        "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute)"
        " || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable)"
        " || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}",
        "A route or route table changed: traffic may bypass the NAT gateways or leave by a new path",
        "Match it to a deploy; otherwise terraform plan shows the drift, revert it",
    ),
    CisControl(
        "vpc-changes",
        "VpcChanges",
        "VPC changes",
        "CIS v1.2.0 3.14, v1.4.0 4.14",
        "CloudWatch.14",
        "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute)"
        " || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection)"
        " || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection)"
        " || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc)"
        " || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
        "A VPC, a VPC attribute or a peering connection changed",
        "Match it to a deploy; an unknown peering connection is a path into the network: reject or delete it",
    ),
    CisControl(
        "organizations-changes",
        "OrganizationsChanges",
        "AWS Organizations changes",
        "CIS v1.4.0 4.15",
        None,
        '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake")'
        ' || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount")'
        ' || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy")'
        ' || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization")'
        ' || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy")'
        ' || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType")'
        ' || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization")'
        ' || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount")'
        ' || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy")'
        ' || ($.eventName = "UpdateOrganizationalUnit")) }',
        "The account's organization changed: it joined or left, or its policies (SCPs) changed",
        "Check with the organization's administrators; an account leaving its organization loses its SCP guard rails",
    ),
)


class CisAlarms(Tier[SecurityBaselineSettings]):
    """One metric filter on the trail's log group and one alarm to the security topic per CIS control."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: SecurityBaselineSettings,
        context: StageContext,
        *,
        log_group_name: str,
    ) -> None:
        super().__init__(scope, id_, settings, context)
        self.alarms: list[CloudwatchMetricAlarm] = []
        for control in CIS_CONTROLS:
            metric_filter = CloudwatchLogMetricFilter(
                self,
                f"{control.key}-filter",
                name=control.alarm_name,
                log_group_name=log_group_name,
                pattern=control.pattern,
                metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                    name=control.metric, namespace=CIS_NAMESPACE, value="1"
                ),
            )
            source = control.cis + (f", Security Hub {control.security_hub}" if control.security_hub else "")
            self.alarms.append(
                CloudwatchMetricAlarm(
                    self,
                    f"{control.key}-alarm",
                    alarm_name=control.alarm_name,
                    alarm_description=f"{control.means} ({source}). What to do: {control.response}"[:1024],
                    namespace=CIS_NAMESPACE,
                    metric_name=control.metric,
                    statistic="Sum",
                    period=CIS_PERIOD_SECONDS,
                    evaluation_periods=1,
                    threshold=1,
                    comparison_operator="GreaterThanOrEqualToThreshold",
                    # No matching event is no data: that is the normal state, not a breach.
                    treat_missing_data="notBreaching",
                    actions_enabled=True,
                    # Each event is worth a message; an "OK" five minutes later would only be noise.
                    alarm_actions=[context.alarm_topic_arn],
                    tags={"tier": "security"},
                    depends_on=[metric_filter],
                )
            )


class CisDashboardRow:
    """The stage dashboards' security row: the CIS metrics of the stage's account (which live in the
    account's home region, where the trail's log group is)."""

    def __init__(self, home_region: str) -> None:
        self.home_region = home_region

    @property
    def dashboard_widgets(self) -> Sequence[tuple[str, list[list[Any]], str]]:
        """``(title, metric lines, region)`` of each widget."""
        identity = {
            "unauthorized-api-calls",
            "console-sign-in-without-mfa",
            "root-account-usage",
            "console-authentication-failures",
        }

        def lines(controls: Sequence[CisControl]) -> list[list[Any]]:
            return [[CIS_NAMESPACE, c.metric, {"stat": "Sum", "label": c.title}] for c in controls]

        return (
            (
                "Security (CIS, account): sign-ins, root use, refused calls",
                lines([c for c in CIS_CONTROLS if c.key in identity]),
                self.home_region,
            ),
            (
                "Security (CIS, account): changes to IAM, trail, keys, buckets, Config, network, organization",
                lines([c for c in CIS_CONTROLS if c.key not in identity]),
                self.home_region,
            ),
        )
