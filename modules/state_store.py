"""Terraform state store: the S3 bucket and DynamoDB lock table every stage's backend uses.

Deployed once, by the bootstrap stack on local state (it cannot keep its state in a bucket it
has yet to create). Both resources refuse ``terraform destroy`` (``prevent_destroy``) and the
table also has deletion protection: losing them loses every stage's state.

The state key is named by its alias (``kms_key_alias`` in ``environments/_state.toml``): the
bootstrap creates the alias, and every stage's backend sends it as ``kms_key_id``, so state and
lock objects are written under this key. A backend block takes no interpolation, and the alias
is known before the key exists, so nothing has to be copied back after the bootstrap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from constructs import Construct

from modules.kit import (
    AwsAccount,
    customer_managed_key,
    deny_insecure_transport,
    encrypt_bucket,
    lock_down_bucket,
    policy_document,
)
from modules.settings import REGION, SectionProblems, require_valid, setting

PROTECTED = TerraformResourceLifecycle(prevent_destroy=True)


@dataclass(frozen=True)
class StateStoreSettings:
    """``environments/_state.toml``: where every stage keeps its Terraform state."""

    #: Globally unique name of the state bucket.
    bucket: str = setting(allowed="a globally unique S3 bucket name (3-63 lowercase letters, digits, '-')")
    #: Name of the DynamoDB lock table (hash key ``LockID``).
    lock_table: str = setting(allowed="a DynamoDB table name (3-255 of letters, digits, '_', '-', '.')")
    #: Region of the bucket and the table (every stage's backend names it).
    region: str = setting(allowed="an AWS region name such as 'eu-west-1'")
    #: Days superseded state versions are kept (they are the undo history of every stage).
    noncurrent_version_days: int = setting(90, allowed="days (1-3650) old state versions are kept before expiry")
    #: Alias of the state key: created by the bootstrap, named by every stage backend's ``kms_key_id``.
    kms_key_alias: str = setting(
        "alias/digital-booking-terraform-state",
        allowed="a KMS alias name: 'alias/' then letters, digits, '/', '_' or '-' (not 'alias/aws/...')",
    )

    def check(self, problems: SectionProblems, region: str) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", self.bucket):
            problems.add("bucket", self.bucket, "not an S3 bucket name", "3-63 lowercase letters, digits and '-'")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", self.lock_table):
            problems.add("lock_table", self.lock_table, "not a DynamoDB table name", "3-255 of A-Z a-z 0-9 _ - .")
        if not REGION.match(self.region):
            problems.add("region", self.region, "not a region name", "an AWS region name such as 'eu-west-1'")
        if not 1 <= self.noncurrent_version_days <= 3650:
            problems.add("noncurrent_version_days", self.noncurrent_version_days, "out of range", "1 to 3650")
        # KMS alias names (CreateAlias) and what Terraform's s3 backend accepts as `kms_key_id`.
        if not re.fullmatch(r"alias/[a-zA-Z0-9/_-]{1,250}", self.kms_key_alias) or self.kms_key_alias.startswith(
            "alias/aws/"
        ):
            problems.add(
                "kms_key_alias",
                self.kms_key_alias,
                "not a customer alias name",
                "'alias/' then letters, digits, '/', '_' or '-'; 'alias/aws/' is reserved for AWS",
            )


class TerraformStateStore(Construct):
    """The versioned, KMS-encrypted, private state bucket and its lock table."""

    def __init__(self, scope: Construct, id_: str, settings: StateStoreSettings, account: AwsAccount) -> None:
        super().__init__(scope, id_)
        require_valid(settings, settings.region)
        self.kms_key = customer_managed_key(
            self,
            "state-key",
            account,
            "Encrypts the Terraform state bucket and lock table",
            alias=settings.kms_key_alias.removeprefix("alias/"),
            lifecycle=PROTECTED,
        )
        alias_arn = account.arn("kms", settings.kms_key_alias, settings.region)

        self.bucket = S3Bucket(self, "state-bucket", bucket=settings.bucket, tags={}, lifecycle=PROTECTED)
        bucket_id = self.bucket.id
        lock_down_bucket(self, "state-bucket", bucket_id)
        encrypt_bucket(self, "state-bucket", bucket_id, kms_key_arn=self.kms_key.arn)
        S3BucketLifecycleConfiguration(
            self,
            "state-bucket-lifecycle",
            bucket=bucket_id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-state-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=settings.noncurrent_version_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )
        # Besides TLS only: no object may be written with any encryption other than SSE-KMS under
        # the state key. Terraform (>= 1.10) sends the same SSE headers for the `<key>.tflock` lock
        # objects as for the state, so both pass. The statements refuse a request that asks for
        # something else (AES256 is what `encrypt = true` without `kms_key_id` sends), and leave a
        # request without SSE headers to the default encryption above (the same key): an
        # UploadPart carries no SSE headers, so requiring them would refuse any state above
        # Terraform's 5 MiB multipart part size. Hence `Null = false` (the header is present)
        # beside each `StringNotEquals`: a negated operator alone, or its ...IfExists form, also
        # holds when the header is missing. The key may be named by its ARN or its alias.
        objects = f"{self.bucket.arn}/*"
        S3BucketPolicy(
            self,
            "state-bucket-policy",
            bucket=bucket_id,
            policy=policy_document(
                deny_insecure_transport("s3:*", [self.bucket.arn, objects]),
                {
                    "Sid": "DenyWritesWithoutKms",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": objects,
                    "Condition": {
                        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                        "Null": {"s3:x-amz-server-side-encryption": "false"},
                    },
                },
                {
                    "Sid": "DenyWritesWithAnotherKey",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": objects,
                    "Condition": {
                        "StringNotEquals": {
                            "s3:x-amz-server-side-encryption-aws-kms-key-id": [
                                self.kms_key.arn,
                                settings.kms_key_alias,
                                alias_arn,
                            ]
                        },
                        "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                    },
                },
            ),
        )

        self.lock_table = DynamodbTable(
            self,
            "lock-table",
            name=settings.lock_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=self.kms_key.arn),
            deletion_protection_enabled=True,
            tags={},
            lifecycle=PROTECTED,
        )

        #: What the stage backends and the README need.
        self.bucket_name: str = self.bucket.bucket
        self.bucket_arn: str = self.bucket.arn
        self.lock_table_name: str = self.lock_table.name
        self.kms_key_arn: str = self.kms_key.arn
