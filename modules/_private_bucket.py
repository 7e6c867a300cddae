"""The baseline every bucket of the platform gets, written once.

Four buckets share it (Terraform state, ALB access logs, static assets, their access logs):
no public access, ACLs disabled, versioning on, encryption at rest. The resources are created
in the caller's scope with ids ``<prefix>-public-access-block``, ``<prefix>-ownership``,
``<prefix>-versioning`` and ``<prefix>-encryption``, so each tier keeps its own Terraform
addresses. Policies, lifecycle rules and logging differ per bucket and stay in the tiers.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct


def lock_down_bucket(scope: Construct, prefix: str, bucket_id: str, *,
                     object_ownership: str = "BucketOwnerEnforced") -> None:
    """All four public-access flags, the given object ownership (ACLs off by default), versioning on."""
    S3BucketPublicAccessBlock(scope, f"{prefix}-public-access-block", bucket=bucket_id, block_public_acls=True,
                              block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
    S3BucketOwnershipControls(scope, f"{prefix}-ownership", bucket=bucket_id,
                              rule=S3BucketOwnershipControlsRule(object_ownership=object_ownership))
    S3BucketVersioningA(scope, f"{prefix}-versioning", bucket=bucket_id,
                        versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"))


def encrypt_bucket(scope: Construct, prefix: str, bucket_id: str, kms_key_arn: str | None = None) -> None:
    """SSE-KMS with a bucket key when a key is given; SSE-S3 otherwise (all that ALB log delivery can write)."""
    if kms_key_arn is None:
        default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="AES256")
        rule = S3BucketServerSideEncryptionConfigurationRuleA(apply_server_side_encryption_by_default=default)
    else:
        default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn)
        rule = S3BucketServerSideEncryptionConfigurationRuleA(bucket_key_enabled=True,
                                                              apply_server_side_encryption_by_default=default)
    S3BucketServerSideEncryptionConfigurationA(scope, f"{prefix}-encryption", bucket=bucket_id, rule=[rule])
