"""Monitoring tier: who hears about trouble, and the alarms and dashboard that tell them.

Two constructs, created at the two ends of a stage stack:

- :class:`StageAlerting` (first, before every other tier): the stage's KMS-encrypted SNS alarm
  topic with its e-mail subscribers, and, when ``encrypt_logs`` (prod), the KMS key every log
  group of the stage is encrypted with. The other tiers take ``alarm_topic_arn``,
  ``log_kms_key_arn`` and ``log_retention_days`` from it.
- :class:`PlatformAlarms` (last): metric alarms on every tier, each sending to the topic when it
  fires and when it clears, and one CloudWatch dashboard with the golden signals of every tier.
  Alarms are derived from the other tiers' public attributes (one per NAT gateway, per database
  instance and replica, per cache member cluster), never from hard-coded names; a tier the stack
  does not have simply gets no alarms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

#: AWS services that publish to the alarm topic (alarms, RDS and ElastiCache event notifications).
PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.rds.amazonaws.com", "elasticache.amazonaws.com")


@dataclass(frozen=True)
class StageAlertingProps:
    """What the stage's alerting needs. Every field has a default; a stage overrides what it must."""

    #: Prefix of every resource name, e.g. ``digital-booking-dev``.
    name: str = "digital-booking"
    #: Region, for the CloudWatch Logs service principal in the log key's policy.
    region: str = "eu-west-1"
    #: E-mail addresses subscribed to the alarm topic (each must confirm the subscription mail).
    alarm_emails: tuple[str, ...] = ()
    #: Days every log group of the stage keeps its events (a value CloudWatch Logs accepts).
    log_retention_days: int = 90
    #: Encrypt the stage's log groups with a customer-managed KMS key (prod); else CloudWatch's own.
    encrypt_logs: bool = False
    #: Tags for resources of this tier (the provider adds the stage's default tags).
    tags: dict[str, str] = field(default_factory=dict)


def _account_root_statement(partition: str, account_id: str) -> dict[str, Any]:
    # The account administers the key through IAM; without it the key would be unmanageable.
    return {"Sid": "AccountAdministersKey", "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"}


class StageAlerting(Construct):
    """The stage's alarm topic (KMS-encrypted, e-mail subscribers) and, in prod, the log KMS key."""

    def __init__(self, scope: Construct, id_: str, props: StageAlertingProps = StageAlertingProps()) -> None:
        super().__init__(scope, id_)
        self.props = props
        name = props.name
        account_id = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition

        # SNS encrypts with a customer key so that the publishing services can be granted its use
        # (the AWS-managed alias/aws/sns key cannot be shared with CloudWatch or RDS).
        self.topic_key = KmsKey(
            self, "alarm-topic-key", description=f"Encrypts the {name} alarm topic", enable_key_rotation=True,
            deletion_window_in_days=30, tags=props.tags,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [
                _account_root_statement(partition, account_id),
                {"Sid": "PublishingServicesUseKey", "Effect": "Allow",
                 "Principal": {"Service": list(PUBLISHING_SERVICES)},
                 "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                 "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
            ]}))
        KmsAlias(self, "alarm-topic-key-alias", name=f"alias/{name}-alarms", target_key_id=self.topic_key.key_id)

        self.topic = SnsTopic(self, "alarm-topic", name=f"{name}-alarms", display_name=f"{name} alarms",
                              kms_master_key_id=self.topic_key.arn, tags=props.tags)
        SnsTopicPolicy(self, "alarm-topic-policy", arn=self.topic.arn, policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "AccountManagesTopic", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                 "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
                            "sns:ListSubscriptionsByTopic", "sns:Publish"],
                 "Resource": self.topic.arn},
                {"Sid": "ServicesOfThisAccountPublish", "Effect": "Allow",
                 "Principal": {"Service": list(PUBLISHING_SERVICES)}, "Action": "sns:Publish",
                 "Resource": self.topic.arn, "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                 "Resource": self.topic.arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            ],
        }))
        self.subscriptions = [
            SnsTopicSubscription(self, f"alarm-email-{index}", topic_arn=self.topic.arn, protocol="email",
                                 endpoint=address)
            for index, address in enumerate(props.alarm_emails)]

        #: Where every alarm and event notification of the stage goes.
        self.alarm_topic_arn: str = self.topic.arn
        self.alarm_topic_name: str = self.topic.name
        #: Days every log group of the stage keeps its events.
        self.log_retention_days: int = props.log_retention_days
        #: KMS key for every log group of the stage, or None (CloudWatch's own encryption).
        self.log_kms_key_arn: str | None = None
        if props.encrypt_logs:
            log_group_arns = f"arn:{partition}:logs:{props.region}:{account_id}:log-group:*"
            self.log_key = KmsKey(
                self, "log-key", description=f"Encrypts the {name} CloudWatch log groups", enable_key_rotation=True,
                deletion_window_in_days=30, tags=props.tags,
                policy=json.dumps({"Version": "2012-10-17", "Statement": [
                    _account_root_statement(partition, account_id),
                    # Only CloudWatch Logs of this region, and only for this account's log groups.
                    {"Sid": "CloudWatchLogsUseKey", "Effect": "Allow",
                     "Principal": {"Service": f"logs.{props.region}.amazonaws.com"},
                     "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                                "kms:Describe*"],
                     "Resource": "*",
                     "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}}},
                ]}))
            KmsAlias(self, "log-key-alias", name=f"alias/{name}-logs", target_key_id=self.log_key.key_id)
            self.log_kms_key_arn = self.log_key.arn
