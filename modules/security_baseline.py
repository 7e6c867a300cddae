"""The account security baseline: what every AWS account and region of the platform gets once,
however many stages share the account (its own stack per account and region, see
``stacks/security_stack.py``).

- :class:`SecurityBaselineSettings`: what an account may tune (``[accounts.<name>.baseline]`` in
  ``environments/_accounts.toml``), with the services' own limits.
- :class:`SecurityAlerting`: the security topic (KMS-encrypted, TLS-only, the account's security
  e-mail subscribers; its key lets exactly CloudWatch alarms and EventBridge rules publish) and,
  in the account's home region, the KMS key of the trail's log group.
- :class:`AccountGuards`: the account-level protections: S3 account public access block (global:
  home region only), EBS encryption by default with the account's own key, snapshot block public
  access.

The trail and the CIS alarms are in ``audit_trail.py`` and ``cis_alarms.py``; GuardDuty, Security
Hub, AWS Config, IAM Access Analyzer and the routing of their findings in ``threat_detection.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.ebs_default_kms_key import EbsDefaultKmsKey
from cdktf_cdktf_provider_aws.ebs_encryption_by_default import EbsEncryptionByDefault
from cdktf_cdktf_provider_aws.ebs_snapshot_block_public_access import EbsSnapshotBlockPublicAccess
from cdktf_cdktf_provider_aws.s3_account_public_access_block import S3AccountPublicAccessBlock
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.kit import (
    AwsAccount,
    StageContext,
    Tier,
    customer_managed_key,
    deny_insecure_transport,
    eventbridge_uses_topic_key,
    policy_document,
)
from modules.settings import SectionProblems, check_range, check_retention, setting

#: Prefix of every resource name of the baseline (one baseline per account and region).
BASELINE_NAME = "digital-booking-security"
#: The service-linked role EC2 Auto Scaling launches instances with (created by AWS with the first group).
AUTOSCALING_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


@dataclass(frozen=True)
class SecurityBaselineSettings:
    """[accounts.<name>.baseline]: retention and detection settings of one account's baseline."""

    #: CloudWatch Logs retention of the trail's log group (what the CIS metric filters read).
    trail_log_retention_days: int = setting(
        365, allowed="a CloudWatch Logs retention in days (e.g. 365) for the trail's log group"
    )
    #: Trail log files move to Glacier Instant Retrieval after this many days, and expire later.
    trail_archive_after_days: int = setting(
        90, allowed="days after which trail log files move to Glacier Instant Retrieval, 30 to 3650"
    )
    trail_expiration_days: int = setting(
        2557,
        allowed="days trail log files are kept (7 years by default), 90 to 3650 and after trail_archive_after_days",
    )
    #: AWS Config snapshots and history files expire after this many days.
    config_expiration_days: int = setting(730, allowed="days AWS Config delivery files are kept, 30 to 3650")
    #: S3 server access logs of the trail and Config buckets expire after this many days.
    access_log_expiration_days: int = setting(
        365, allowed="days S3 access logs of the audit buckets are kept, 1 to 3650"
    )
    #: How often GuardDuty sends updates of an existing finding (new findings go out within minutes).
    finding_publishing_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = setting(
        "FIFTEEN_MINUTES", allowed="'FIFTEEN_MINUTES', 'ONE_HOUR' or 'SIX_HOURS' (GuardDuty finding updates)"
    )
    #: EBS snapshot block public access: no public sharing at all, or no new public sharing.
    snapshot_block_public_access: Literal["block-all-sharing", "block-new-sharing"] = setting(
        "block-all-sharing",
        allowed="'block-all-sharing' (existing public snapshots become private too) or 'block-new-sharing'",
    )

    def check(self, problems: SectionProblems, region: str) -> None:
        check_retention(problems, "trail_log_retention_days", self.trail_log_retention_days)
        check_range(problems, "trail_archive_after_days", self.trail_archive_after_days, 30, 3650)
        check_range(problems, "trail_expiration_days", self.trail_expiration_days, 90, 3650)
        if self.trail_expiration_days <= self.trail_archive_after_days:
            problems.add(
                "trail_expiration_days",
                self.trail_expiration_days,
                f"trail log files would expire before they are archived (day {self.trail_archive_after_days})",
                "more days than trail_archive_after_days",
            )
        check_range(problems, "config_expiration_days", self.config_expiration_days, 30, 3650)
        check_range(problems, "access_log_expiration_days", self.access_log_expiration_days, 1, 3650)


class SecurityAlerting(Construct):
    """The account's security topic in one region, and in the home region the trail's log key."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        region: str,
        account: AwsAccount,
        emails: Sequence[str],
        encrypt_logs: bool,
    ) -> None:
        """``emails``: the account's security subscribers; ``encrypt_logs``: also make the KMS key of the
        baseline's log groups (the home region, where the trail delivers)."""
        super().__init__(scope, id_)
        name = f"{BASELINE_NAME}-alerts"
        # CloudWatch alarms (the CIS alarms) and EventBridge rules (GuardDuty and Security Hub findings)
        # publish to the encrypted topic, so both services must use its key, and nothing else may. SNS
        # guide, "Enable compatibility between event sources from AWS services and encrypted topics":
        # both need kms:GenerateDataKey* and kms:Decrypt; aws:SourceAccount and aws:SourceArn are not
        # supported in the key policy for EventBridge-to-encrypted-topic delivery, so only CloudWatch's
        # statement carries the account condition.
        self.topic_key = customer_managed_key(
            self,
            "topic-key",
            account,
            "Encrypts the security topic",
            alias=name,
            statements=[
                {
                    "Sid": "CloudWatchAlarmsUseKey",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
                },
                eventbridge_uses_topic_key(),
            ],
        )
        self.topic = SnsTopic(
            self, "topic", name=name, display_name="Security alerts", kms_master_key_id=self.topic_key.arn, tags={}
        )
        topic_arn = self.topic.arn
        rules = account.arn("events", f"rule/{BASELINE_NAME}-*", region)
        SnsTopicPolicy(
            self,
            "topic-policy",
            arn=topic_arn,
            policy=policy_document(
                {
                    "Sid": "AccountManagesTopic",
                    "Effect": "Allow",
                    "Principal": {"AWS": account.root_arn},
                    "Action": [
                        "sns:GetTopicAttributes",
                        "sns:SetTopicAttributes",
                        "sns:Subscribe",
                        "sns:ListSubscriptionsByTopic",
                        "sns:Publish",
                    ],
                    "Resource": topic_arn,
                },
                {
                    "Sid": "AlarmsOfThisAccountPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
                },
                {
                    "Sid": "FindingRulesPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"ArnLike": {"aws:SourceArn": rules}},
                },
                deny_insecure_transport("sns:Publish", topic_arn),
            ),
        )
        self.subscriptions = [
            SnsTopicSubscription(self, f"email-{index}", topic_arn=topic_arn, protocol="email", endpoint=address)
            for index, address in enumerate(emails)
        ]
        #: Where every security alarm and finding goes.
        self.topic_arn: str = topic_arn
        #: KMS key of the baseline's log groups (home region), else None.
        self.log_kms_key_arn: str | None = None
        if encrypt_logs:
            self.log_key = customer_managed_key(
                self,
                "log-key",
                account,
                "Encrypts the account trail's CloudWatch log group",
                alias=f"{BASELINE_NAME}-logs",
                statements=[
                    {
                        "Sid": "CloudWatchLogsUseKey",
                        "Effect": "Allow",
                        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                        "Action": [
                            "kms:Encrypt*",
                            "kms:Decrypt*",
                            "kms:ReEncrypt*",
                            "kms:GenerateDataKey*",
                            "kms:Describe*",
                        ],
                        "Resource": "*",
                        "Condition": {
                            "ArnLike": {
                                "kms:EncryptionContext:aws:logs:arn": account.arn("logs", "log-group:*", region)
                            }
                        },
                    }
                ],
            )
            self.log_kms_key_arn = self.log_key.arn


class AccountGuards(Tier[SecurityBaselineSettings]):
    """Account-level protections of one region (and, in the home region, the account-wide S3 block)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: SecurityBaselineSettings,
        context: StageContext,
        *,
        account_wide: bool,
    ) -> None:
        """``account_wide``: also manage the settings that are global to the account (the home region's stack)."""
        super().__init__(scope, id_, settings, context)
        account = context.account
        if account_wide:
            # Global, not regional (S3 Control API): one stack per account manages it.
            S3AccountPublicAccessBlock(
                self,
                "s3-account-public-access-block",
                account_id=account.account_id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            )

        # Every new EBS volume and snapshot copy in the region is encrypted, with this key unless the
        # caller names another. The app servers' launch template asks for encryption without a key, so
        # their volumes use it: EC2 Auto Scaling launches through its service-linked role, which needs
        # the key policy statements of the Auto Scaling guide ("Required AWS KMS key policy for use
        # with encrypted volumes"). KMS refuses a key policy naming a principal that does not exist yet
        # (CreateKey: "The principals in the key policy must exist"), and the role only appears with the
        # account's first Auto Scaling group, after this stack: so the role is matched by
        # aws:PrincipalArn in this account rather than named as the principal.
        autoscaling = {
            "ArnEquals": {"aws:PrincipalArn": account.arn("iam", AUTOSCALING_ROLE)},
            "StringEquals": {"kms:CallerAccount": account.account_id},
        }
        self.ebs_key = customer_managed_key(
            self,
            "ebs-key",
            account,
            f"Default EBS encryption key of the account in {context.region}",
            alias=f"{BASELINE_NAME}-ebs",
            statements=[
                {
                    "Sid": "AutoScalingUsesKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    "Resource": "*",
                    "Condition": autoscaling,
                },
                {
                    "Sid": "AutoScalingAttachesVolumes",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "kms:CreateGrant",
                    "Resource": "*",
                    "Condition": {**autoscaling, "Bool": {"kms:GrantIsForAWSResource": "true"}},
                },
            ],
        )
        encryption = EbsEncryptionByDefault(self, "ebs-encryption-by-default", enabled=True)
        EbsDefaultKmsKey(self, "ebs-default-key", key_arn=self.ebs_key.arn, depends_on=[encryption])
        EbsSnapshotBlockPublicAccess(self, "snapshot-block-public-access", state=settings.snapshot_block_public_access)
