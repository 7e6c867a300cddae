"""Threat detection of one account and region, and the routing of what it finds.

- GuardDuty with the protections that apply to this platform: S3 (data events of every bucket), EBS
  malware scanning (the app servers' volumes), RDS login activity (the booking database), and
  runtime monitoring of the EC2 app servers (GuardDuty manages its agent on them; they run the SSM
  agent it needs).
- Security Hub with the AWS Foundational Security Best Practices and the CIS AWS Foundations
  Benchmark v1.4.0 standards (v1.4.0 is the newest CIS standard whose checks include the metric
  filter alarms of ``cis_alarms.py``; v3.0.0 and v5.0.0 do not evaluate them), consolidated control
  findings.
- AWS Config recording every supported resource type (what Security Hub's controls evaluate; the
  global IAM types in the home region only, so they are not recorded twice) with its service-linked
  role (Security Hub control Config.1), delivering to its own private, encrypted, access-logged bucket.
- IAM Access Analyzer for the account (external access to its buckets, keys, roles...).
- EventBridge rules that send findings of medium severity or above, from GuardDuty and from Security
  Hub, to the security topic.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.accessanalyzer_analyzer import AccessanalyzerAnalyzer
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.config_configuration_recorder import (
    ConfigConfigurationRecorder,
    ConfigConfigurationRecorderRecordingGroup,
)
from cdktf_cdktf_provider_aws.config_configuration_recorder_status import ConfigConfigurationRecorderStatus
from cdktf_cdktf_provider_aws.config_delivery_channel import (
    ConfigDeliveryChannel,
    ConfigDeliveryChannelSnapshotDeliveryProperties,
)
from cdktf_cdktf_provider_aws.guardduty_detector import GuarddutyDetector
from cdktf_cdktf_provider_aws.guardduty_detector_feature import (
    GuarddutyDetectorFeature,
    GuarddutyDetectorFeatureAdditionalConfiguration,
)
from cdktf_cdktf_provider_aws.iam_service_linked_role import IamServiceLinkedRole
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.securityhub_account import SecurityhubAccount
from cdktf_cdktf_provider_aws.securityhub_standards_subscription import SecurityhubStandardsSubscription
from constructs import Construct

from modules.audit_trail import AuditLogBucket
from modules.kit import (
    StageContext,
    Tier,
    customer_managed_key,
    deny_insecure_transport,
    encrypt_bucket,
    lock_down_bucket,
    policy_document,
)
from modules.security_baseline import BASELINE_NAME, SecurityBaselineSettings

#: GuardDuty protections (detector features) this platform uses: name -> additional configuration.
GUARDDUTY_FEATURES: dict[str, tuple[str, ...]] = {
    "S3_DATA_EVENTS": (),
    "EBS_MALWARE_PROTECTION": (),
    "RDS_LOGIN_EVENTS": (),
    "RUNTIME_MONITORING": ("EC2_AGENT_MANAGEMENT",),
}
#: AWS Config's service-linked role (one per account, in IAM).
CONFIG_SERVICE_LINKED_ROLE = "role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
#: Security Hub standards, by the path of their ARN after ``arn:<partition>:securityhub:<region>::``.
SECURITY_HUB_STANDARDS = {
    "aws-foundational-security-best-practices": "standards/aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark": "standards/cis-aws-foundations-benchmark/v/1.4.0",
}
#: GuardDuty findings of medium severity or above: GuardDuty's severity levels are Low 1.0-3.9,
#: Medium 4.0-6.9, High 7.0-8.9 ("Severity levels for GuardDuty findings"), a JSON number in
#: ``detail.severity`` of the "GuardDuty Finding" event.
GUARDDUTY_FINDINGS_PATTERN: dict[str, Any] = {
    "source": ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    "detail": {"severity": [{"numeric": [">=", 4]}]},
}
#: New, active Security Hub findings labelled MEDIUM or above ("Configuring an EventBridge rule for
#: automatically sent findings"), except GuardDuty's own, which the rule above already sends.
SECURITY_HUB_FINDINGS_PATTERN: dict[str, Any] = {
    "source": ["aws.securityhub"],
    "detail-type": ["Security Hub Findings - Imported"],
    "detail": {
        "findings": {
            "Severity": {"Label": ["MEDIUM", "HIGH", "CRITICAL"]},
            "Workflow": {"Status": ["NEW"]},
            "RecordState": ["ACTIVE"],
            "ProductName": [{"anything-but": "GuardDuty"}],
        }
    },
}


class ThreatDetection(Tier[SecurityBaselineSettings]):
    """GuardDuty, Security Hub, AWS Config and IAM Access Analyzer of one region, findings to the topic."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: SecurityBaselineSettings,
        context: StageContext,
        *,
        access_logs: AuditLogBucket,
        record_global_resources: bool,
        protect_from_deletion: bool,
    ) -> None:
        """``record_global_resources``: AWS Config also records IAM (global) resources: in one region only,
        the account's home region; ``protect_from_deletion``: refuse ``terraform destroy`` of the Config
        bucket and key (production accounts)."""
        super().__init__(scope, id_, settings, context)
        self._guardduty()
        self._security_hub()
        self._config(access_logs, record_global_resources, protect_from_deletion)
        self.access_analyzer = AccessanalyzerAnalyzer(
            self, "access-analyzer", analyzer_name=f"{BASELINE_NAME}-account", type="ACCOUNT", tags={}
        )
        self.finding_rules = [
            self._route(
                "guardduty-findings", "GuardDuty findings of medium severity or above", GUARDDUTY_FINDINGS_PATTERN
            ),
            self._route(
                "securityhub-findings",
                "New Security Hub findings of medium severity or above (GuardDuty's are routed by their own rule)",
                SECURITY_HUB_FINDINGS_PATTERN,
            ),
        ]

    def _guardduty(self) -> None:
        self.detector = GuarddutyDetector(
            self,
            "guardduty",
            enable=True,
            finding_publishing_frequency=self.settings.finding_publishing_frequency,
            tags={},
        )
        self.guardduty_features = [
            GuarddutyDetectorFeature(
                self,
                f"guardduty-{name.lower().replace('_', '-')}",
                detector_id=self.detector.id,
                name=name,
                status="ENABLED",
                additional_configuration=[
                    GuarddutyDetectorFeatureAdditionalConfiguration(name=extra, status="ENABLED") for extra in extras
                ]
                or None,
            )
            for name, extras in GUARDDUTY_FEATURES.items()
        ]

    def _security_hub(self) -> None:
        partition, region = self.context.account.partition, self.context.region
        # The default standards are off so that exactly the two below are enabled (and stay managed here).
        self.security_hub = SecurityhubAccount(
            self,
            "security-hub",
            enable_default_standards=False,
            control_finding_generator="SECURITY_CONTROL",
            auto_enable_controls=True,
        )
        self.standards = [
            SecurityhubStandardsSubscription(
                self,
                f"standard-{name}",
                standards_arn=f"arn:{partition}:securityhub:{region}::{path}",
                depends_on=[self.security_hub],
            )
            for name, path in SECURITY_HUB_STANDARDS.items()
        ]

    def _config(self, access_logs: AuditLogBucket, record_global_resources: bool, protect: bool) -> None:
        settings, context = self.settings, self.context
        account, region = context.account, context.region
        protected = TerraformResourceLifecycle(prevent_destroy=True) if protect else None
        # Security Hub's Config.1 wants the recorder to use AWS Config's service-linked role, which has
        # no S3 or KMS permissions: Config then delivers as its service principal, so the key and the
        # bucket grant that principal, for this account only (AWS Config guide, "Permissions for the
        # KMS Key" and "Permissions for the Amazon S3 Bucket", service-linked role sections).
        this_account = {"StringEquals": {"AWS:SourceAccount": account.account_id}}
        self.config_key = customer_managed_key(
            self,
            "config-key",
            account,
            f"Encrypts the AWS Config delivery bucket in {region}",
            alias=f"{BASELINE_NAME}-config",
            lifecycle=protected,
            statements=[
                {
                    "Sid": "ConfigEncryptsDeliveries",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": this_account,
                }
            ],
        )
        bucket = S3Bucket(
            self,
            "config-bucket",
            bucket=f"digital-booking-config-{account.account_id}-{region}",
            tags={},
            lifecycle=protected,
        )
        self.config_bucket = bucket
        lock_down_bucket(self, "config-bucket", bucket.id)
        encrypt_bucket(self, "config-bucket", bucket.id, kms_key_arn=self.config_key.arn)
        access_logs.log_access_to(self, "config-bucket-logging", bucket.id, "config/")
        S3BucketLifecycleConfiguration(
            self,
            "config-bucket-lifecycle",
            bucket=bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-config-files",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=settings.config_expiration_days)],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=30)
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )
        config = {"Service": "config.amazonaws.com"}
        S3BucketPolicy(
            self,
            "config-bucket-policy",
            bucket=bucket.id,
            policy=policy_document(
                {
                    "Sid": "ConfigChecksBucketAcl",
                    "Effect": "Allow",
                    "Principal": config,
                    "Action": "s3:GetBucketAcl",
                    "Resource": bucket.arn,
                    "Condition": this_account,
                },
                {
                    "Sid": "ConfigChecksBucketExists",
                    "Effect": "Allow",
                    "Principal": config,
                    "Action": "s3:ListBucket",
                    "Resource": bucket.arn,
                    "Condition": this_account,
                },
                {
                    "Sid": "ConfigDelivers",
                    "Effect": "Allow",
                    "Principal": config,
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket.arn}/AWSLogs/{account.account_id}/Config/*",
                    "Condition": {
                        "StringEquals": {
                            "s3:x-amz-acl": "bucket-owner-full-control",
                            "AWS:SourceAccount": account.account_id,
                        }
                    },
                },
                deny_insecure_transport("s3:*", [bucket.arn, f"{bucket.arn}/*"]),
            ),
        )

        # IAM is global: the home region's stack creates the role ("In the IAM CLI or the IAM API, create
        # a service-linked role with the config.amazonaws.com service name"); the other regions use it.
        if record_global_resources:
            role = IamServiceLinkedRole(self, "config-service-linked-role", aws_service_name="config.amazonaws.com")
            self.config_role_arn: str = role.arn
        else:
            self.config_role_arn = account.arn("iam", CONFIG_SERVICE_LINKED_ROLE)
        self.recorder = ConfigConfigurationRecorder(
            self,
            "config-recorder",
            name=BASELINE_NAME,
            role_arn=self.config_role_arn,
            recording_group=ConfigConfigurationRecorderRecordingGroup(
                all_supported=True, include_global_resource_types=record_global_resources
            ),
        )
        channel = ConfigDeliveryChannel(
            self,
            "config-delivery-channel",
            name=BASELINE_NAME,
            s3_bucket_name=bucket.id,
            s3_kms_key_arn=self.config_key.arn,
            snapshot_delivery_properties=ConfigDeliveryChannelSnapshotDeliveryProperties(
                delivery_frequency="TwentyFour_Hours"
            ),
            depends_on=[self.recorder],
        )
        ConfigConfigurationRecorderStatus(
            self, "config-recording", name=self.recorder.name, is_enabled=True, depends_on=[channel]
        )

    def _route(self, name: str, description: str, pattern: dict[str, Any]) -> CloudwatchEventRule:
        rule = CloudwatchEventRule(
            self,
            name,
            name=f"{BASELINE_NAME}-{name}",
            description=description,
            event_pattern=json.dumps(pattern),
            tags={},
        )
        CloudwatchEventTarget(self, f"{name}-to-topic", rule=rule.name, arn=self.context.alarm_topic_arn)
        return rule
