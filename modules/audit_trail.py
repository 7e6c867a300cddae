"""The account's audit trail: one multi-region CloudTrail trail of every management event.

- :class:`AuditLogBucket`: per region, the private SSE-S3 bucket the baseline's buckets write their
  S3 server access logs to (access logging cannot deliver to an SSE-KMS bucket).
- :class:`AuditTrail` (the account's home region only): the trail (all regions, global service
  events, log file validation), encrypted with its own KMS key whose policy grants CloudTrail
  exactly what the CloudTrail guide lists; delivered to a dedicated private, versioned, TLS-only,
  access-logged bucket with a lifecycle (Glacier Instant Retrieval, then expiry), and to a KMS
  encrypted CloudWatch log group with retention, which the CIS metric filters
  (``cis_alarms.py``) read. In a production account, S3 object (data) events of the named buckets
  too: who read or wrote the state and the listings' media.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudtrail import (
    Cloudtrail,
    CloudtrailAdvancedEventSelector,
    CloudtrailAdvancedEventSelectorFieldSelector,
)
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from constructs import Construct

from modules.kit import (
    StageContext,
    Tier,
    customer_managed_key,
    deny_insecure_transport,
    encrypt_bucket,
    expire_logs,
    lock_down_bucket,
    log_group,
    policy_document,
    service_role,
)
from modules.security_baseline import BASELINE_NAME, SecurityBaselineSettings

TRAIL_NAME = "digital-booking-account-trail"


class AuditLogBucket(Tier[SecurityBaselineSettings]):
    """Where the baseline's buckets of one region log every access to them."""

    def __init__(self, scope: Construct, id_: str, settings: SecurityBaselineSettings, context: StageContext) -> None:
        super().__init__(scope, id_, settings, context)
        account_id = context.account.account_id
        self.bucket = S3Bucket(
            self, "bucket", bucket=f"digital-booking-audit-logs-{account_id}-{context.region}", tags={}
        )
        bucket = self.bucket
        lock_down_bucket(self, "bucket", bucket.id)
        encrypt_bucket(self, "bucket", bucket.id)  # SSE-S3: S3 server access logging cannot write SSE-KMS
        expire_logs(self, "bucket-lifecycle", bucket.id, settings.access_log_expiration_days, 30)
        S3BucketPolicy(
            self,
            "bucket-policy",
            bucket=bucket.id,
            policy=policy_document(
                deny_insecure_transport("s3:*", [bucket.arn, f"{bucket.arn}/*"]),
                # S3 server access logging delivers as this service principal, for this account only.
                {
                    "Sid": "S3ServerAccessLogsDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket.arn}/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ),
        )

    def log_access_to(self, scope: Construct, id_: str, bucket_id: str, prefix: str) -> None:
        """Log every request to ``bucket_id`` under ``prefix`` (resource ``id_`` in ``scope``)."""
        S3BucketLoggingA(scope, id_, bucket=bucket_id, target_bucket=self.bucket.id, target_prefix=prefix)


class AuditTrail(Tier[SecurityBaselineSettings]):
    """The account's multi-region trail, its key, bucket, log group, and the role that delivers to it."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: SecurityBaselineSettings,
        context: StageContext,
        *,
        access_logs: AuditLogBucket,
        data_event_buckets: Sequence[str],
        protect_from_deletion: bool,
    ) -> None:
        """``data_event_buckets``: names of the buckets whose object reads and writes are logged too (a
        production account's state and assets buckets); ``protect_from_deletion``: refuse ``terraform
        destroy`` of the trail's key and bucket (production accounts)."""
        super().__init__(scope, id_, settings, context)
        account, region = context.account, context.region
        protected = TerraformResourceLifecycle(prevent_destroy=True) if protect_from_deletion else None
        # Built from the name: the trail's creation checks the bucket and key policies, which name it.
        trail_arn = account.arn("cloudtrail", f"trail/{TRAIL_NAME}", region)
        of_this_trail = {"aws:SourceArn": trail_arn}

        # CloudTrail guide, "Configure AWS KMS key policies for CloudTrail": encrypt (for this account's
        # trails, and only for this trail), decrypt (required with an S3 Bucket Key), describe.
        self.kms_key = customer_managed_key(
            self,
            "key",
            account,
            "Encrypts the account trail's log files",
            alias=f"{BASELINE_NAME}-trail",
            lifecycle=protected,
            statements=[
                {
                    "Sid": "CloudTrailEncryptsLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:GenerateDataKey*",
                    "Resource": "*",
                    "Condition": {
                        "StringLike": {
                            "kms:EncryptionContext:aws:cloudtrail:arn": account.arn("cloudtrail", "trail/*", "*")
                        },
                        "StringEquals": of_this_trail,
                    },
                },
                {
                    "Sid": "CloudTrailDecryptsWithTheBucketKey",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudTrailDescribesKey",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:DescribeKey",
                    "Resource": "*",
                    "Condition": {"StringEquals": of_this_trail},
                },
            ],
        )

        self.bucket = S3Bucket(
            self, "bucket", bucket=f"digital-booking-trail-{account.account_id}", tags={}, lifecycle=protected
        )
        bucket = self.bucket
        lock_down_bucket(self, "bucket", bucket.id)
        encrypt_bucket(self, "bucket", bucket.id, kms_key_arn=self.kms_key.arn)
        access_logs.log_access_to(self, "bucket-logging", bucket.id, "trail/")
        S3BucketLifecycleConfiguration(
            self,
            "bucket-lifecycle",
            bucket=bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="archive-then-expire-log-files",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    transition=[
                        S3BucketLifecycleConfigurationRuleTransition(
                            days=settings.trail_archive_after_days, storage_class="GLACIER_IR"
                        )
                    ],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=settings.trail_expiration_days)],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=30)
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )
        # CloudTrail guide, "Amazon S3 bucket policy for CloudTrail", with the recommended aws:SourceArn.
        bucket_policy = S3BucketPolicy(
            self,
            "bucket-policy",
            bucket=bucket.id,
            policy=policy_document(
                {
                    "Sid": "CloudTrailChecksBucketAcl",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": bucket.arn,
                    "Condition": {"StringEquals": of_this_trail},
                },
                {
                    "Sid": "CloudTrailWritesLogFiles",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket.arn}/AWSLogs/{account.account_id}/*",
                    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **of_this_trail}},
                },
                deny_insecure_transport("s3:*", [bucket.arn, f"{bucket.arn}/*"]),
            ),
        )

        self.log_group = log_group(
            self, "log-group", context, f"/{BASELINE_NAME}/cloudtrail", settings.trail_log_retention_days
        )
        # CloudTrail guide, "Role policy document for CloudTrail to use CloudWatch Logs for monitoring":
        # a multi-region trail writes one stream per region, <account>_CloudTrail_<region>.
        streams = f"{self.log_group.arn}:log-stream:{account.account_id}_CloudTrail_*"
        self.role = service_role(
            self,
            "role",
            f"{BASELINE_NAME}-cloudtrail-to-logs",
            "cloudtrail.amazonaws.com",
            description="CloudTrail delivers the account trail to its CloudWatch log group",
        )
        IamRolePolicy(
            self,
            "role-policy",
            name="deliver-to-the-trail-log-group",
            role=self.role.id,
            policy=policy_document(
                {
                    "Sid": "CreateTrailStreams",
                    "Effect": "Allow",
                    "Action": "logs:CreateLogStream",
                    "Resource": streams,
                },
                {
                    "Sid": "PutTrailEvents",
                    "Effect": "Allow",
                    "Action": "logs:PutLogEvents",
                    "Resource": streams,
                },
            ),
        )

        selectors = [
            # With advanced selectors, management events are logged only when selected (read and write).
            CloudtrailAdvancedEventSelector(
                name="Management events, read and write",
                field_selector=[
                    CloudtrailAdvancedEventSelectorFieldSelector(field="eventCategory", equal_to=["Management"])
                ],
            )
        ]
        if data_event_buckets:
            # CloudTrail guide, "Logging data events": object events of named buckets; "The trailing
            # slash is intentional; do not exclude it".
            selectors.append(
                CloudtrailAdvancedEventSelector(
                    name="Object reads and writes of the state and assets buckets",
                    field_selector=[
                        CloudtrailAdvancedEventSelectorFieldSelector(field="eventCategory", equal_to=["Data"]),
                        CloudtrailAdvancedEventSelectorFieldSelector(
                            field="resources.type", equal_to=["AWS::S3::Object"]
                        ),
                        CloudtrailAdvancedEventSelectorFieldSelector(
                            field="resources.ARN", starts_with=[account.s3_arn(name, "") for name in data_event_buckets]
                        ),
                    ],
                )
            )
        self.trail = Cloudtrail(
            self,
            "trail",
            name=TRAIL_NAME,
            s3_bucket_name=bucket.id,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=self.kms_key.arn,
            cloud_watch_logs_group_arn=f"{self.log_group.arn}:*",
            cloud_watch_logs_role_arn=self.role.arn,
            advanced_event_selector=selectors,
            tags={},
            depends_on=[bucket_policy],
        )
        #: The log group the CIS metric filters read.
        self.log_group_name: str = self.log_group.name
        self.trail_arn: str = self.trail.arn
        self.bucket_name: str = bucket.bucket
