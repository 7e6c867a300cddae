"""Terraform state store: the S3 bucket and DynamoDB lock table every stage's backend uses.

Deployed once, by the bootstrap stack on local state (it cannot keep its state in a bucket it
has yet to create). Both resources refuse ``terraform destroy`` (``prevent_destroy``) and the
table also has deletion protection: losing them loses every stage's state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
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

from modules._key_policy import account_administers_key
from modules._private_bucket import encrypt_bucket, lock_down_bucket

PROTECTED = TerraformResourceLifecycle(prevent_destroy=True)


@dataclass(frozen=True)
class StateStoreProps:
    """Names of the state bucket and lock table. Defaults match ``environments/_state.toml``."""

    #: Globally unique name of the state bucket.
    bucket_name: str = "digital-booking-terraform-state"
    #: Name of the DynamoDB lock table (hash key ``LockID``).
    lock_table_name: str = "digital-booking-terraform-locks"
    #: Days superseded state versions are kept (they are the undo history of every stage).
    noncurrent_version_days: int = 90
    #: Tags for these resources (the provider adds the default tags).
    tags: dict[str, str] = field(default_factory=dict)


class TerraformStateStore(Construct):
    """The versioned, KMS-encrypted, private state bucket and its lock table."""

    def __init__(self, scope: Construct, id_: str, props: StateStoreProps = StateStoreProps()) -> None:
        super().__init__(scope, id_)
        account_id = DataAwsCallerIdentity(self, "account").account_id
        self.kms_key = KmsKey(
            self, "state-key", description="Encrypts the Terraform state bucket and lock table",
            enable_key_rotation=True, deletion_window_in_days=30, tags=props.tags,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [account_administers_key(account_id)]}),
            lifecycle=PROTECTED)
        KmsAlias(self, "state-key-alias", name="alias/digital-booking-terraform-state", target_key_id=self.kms_key.key_id)

        self.bucket = S3Bucket(self, "state-bucket", bucket=props.bucket_name, tags=props.tags, lifecycle=PROTECTED)
        bucket_id = self.bucket.id
        lock_down_bucket(self, "state-bucket", bucket_id)
        encrypt_bucket(self, "state-bucket", bucket_id, kms_key_arn=self.kms_key.arn)
        S3BucketLifecycleConfiguration(
            self, "state-bucket-lifecycle", bucket=bucket_id,
            rule=[S3BucketLifecycleConfigurationRule(
                id="expire-old-state-versions", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=props.noncurrent_version_days)],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)])])
        # Only non-TLS access is denied. No "require SSE header" statement: Terraform's S3-native
        # lock writes `<key>.tflock` objects, which such a statement would refuse; default
        # encryption above covers every object anyway.
        S3BucketPolicy(self, "state-bucket-policy", bucket=bucket_id, policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"],
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
        }))

        self.lock_table = DynamodbTable(
            self, "lock-table", name=props.lock_table_name, billing_mode="PAY_PER_REQUEST", hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=self.kms_key.arn),
            deletion_protection_enabled=True, tags=props.tags, lifecycle=PROTECTED)

        #: What the stage backends and the README need.
        self.bucket_name: str = self.bucket.bucket
        self.bucket_arn: str = self.bucket.arn
        self.lock_table_name: str = self.lock_table.name
        self.kms_key_arn: str = self.kms_key.arn
