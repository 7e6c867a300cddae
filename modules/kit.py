"""The AWS boilerplate every tier repeats, written once.

- :class:`AwsAccount`: the partition and the account id, looked up once per stack, and the ARNs
  built from them (the partition is never written out: the same code serves GovCloud and China).
- :class:`StageContext`: what every tier of a stage needs and cannot work without: the resource
  name prefix, the region, the account, the alarm topic and the log key; :class:`Tier`, the
  construct every tier is, built from its settings and the context.
- :func:`policy_document`, :func:`deny_insecure_transport`: IAM/resource policy JSON.
- :func:`customer_managed_key`: a rotating KMS key whose policy starts with the account's
  administration statement.
- :func:`log_group`, :func:`service_role`, :func:`connection_parameters`: a log group with the
  stage's retention and key, a role a service assumes, the SSM parameters a client reads.
- :func:`tier_security_group`, :func:`open_port`: a tier's security group, and both sides of a
  port between two groups (what the tiers' ``allow_from`` / ``register_with`` write).
- :func:`lock_down_bucket`, :func:`encrypt_bucket`, :func:`expire_logs`: the baseline of every
  bucket, and the lifecycle of a log bucket.
- :func:`final_snapshot_name`: a final-snapshot name of its own for each lifetime of a data store.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from cdktf import Fn, TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
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
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.settings import Settings, require_valid

Statement = dict[str, Any]
NO_TAGS: Mapping[str, str] = types.MappingProxyType({})


class AwsAccount:
    """The account and partition the stack is applied to, read once per stack (two data sources
    at the stack's root), and the ARNs built from them."""

    def __init__(self, stack: Construct) -> None:
        self.account_id: str = DataAwsCallerIdentity(stack, "account").account_id
        self.partition: str = DataAwsPartition(stack, "partition").partition

    @property
    def root_arn(self) -> str:
        """The account itself as an IAM principal (everything IAM policies in it allow)."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def arn(self, service: str, resource: str, region: str = "") -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def managed_policy_arn(self, name: str) -> str:
        """An AWS managed IAM policy, e.g. ``service-role/AmazonRDSEnhancedMonitoringRole``."""
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    def s3_arn(self, bucket: str, key: str | None = None) -> str:
        """A bucket (or an object or key pattern in it): S3 ARNs have no region and no account."""
        return f"arn:{self.partition}:s3:::{bucket}" + (f"/{key}" if key is not None else "")


@dataclass(frozen=True)
class StageContext:
    """What every tier of a stage takes as a required argument."""

    #: Prefix of every resource name, e.g. ``digital-booking-dev``.
    name: str
    #: The stage's region.
    region: str
    #: Partition and account id of the stack (looked up once).
    account: AwsAccount
    #: The SNS topic every alarm and event of the stage notifies.
    alarm_topic_arn: str
    #: The KMS key of every log group of the stage; None: CloudWatch Logs' own encryption.
    log_kms_key_arn: str | None
    #: Tags on the tiers' resources beyond the provider's default tags.
    tags: Mapping[str, str] = field(default_factory=lambda: NO_TAGS)

    @property
    def resource_tags(self) -> dict[str, str]:
        return dict(self.tags)

    def named(self, name: str) -> dict[str, str]:
        """Tags with a ``Name``, for resources the console lists by it."""
        return {"Name": name, **self.tags}


@dataclass(frozen=True)
class SecondRegion:
    """Another region of the stage and the AWS provider aliased to it: the disaster-recovery region
    (copies of the data live there) or the edge region (us-east-1, where CloudFront is configured)."""

    #: The region's name, e.g. ``eu-central-1``.
    name: str
    #: The stack's AWS provider for that region.
    provider: TerraformProvider


S = TypeVar("S", bound=Settings)


class Tier(Construct, Generic[S]):
    """A platform tier: built from its settings (refused when the service would refuse them) for one stage."""

    def __init__(self, scope: Construct, id_: str, settings: S, context: StageContext) -> None:
        super().__init__(scope, id_)
        require_valid(settings, context.region)
        self.settings = settings
        self.context = context


class Grantee(Protocol):
    """An IAM role another tier may grant access to (the app servers' instance role)."""

    @property
    def name(self) -> str: ...

    @property
    def id(self) -> str: ...


class Connectable(Protocol):
    """Something with a security group that another tier may admit (the app servers)."""

    #: Its security group.
    security_group_id: str
    #: How rule descriptions name it, e.g. ``app servers``.
    connection_label: str
    #: The subnet tier it runs in (``private-app``): the network ACLs open the port from there.
    subnet_tier: str


# -- policy documents ------------------------------------------------------------------------------


def policy_document(*statements: Statement) -> str:
    """An IAM policy document (identity, resource, trust or key policy) as JSON."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny_insecure_transport(action: str, resource: str | Sequence[str]) -> Statement:
    """The resource-policy statement that refuses every request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": resource if isinstance(resource, str) else list(resource),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def assume_role_policy(service: str) -> str:
    """The trust policy that lets one AWS service assume a role."""
    return policy_document({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}})


def via_service(service: str, region: str) -> dict[str, Any]:
    """The condition that limits a KMS permission to calls a service makes on the caller's behalf."""
    return {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}}


# -- resources ---------------------------------------------------------------------------------------


def eventbridge_uses_topic_key() -> Statement:
    """The key policy statement that lets EventBridge rules deliver to an SNS topic encrypted with the key,
    as "Troubleshooting Amazon EventBridge" (Scenario 2) and the SNS guide ("Enable compatibility between
    event sources from AWS services and encrypted topics") give it: with no aws:SourceAccount or
    aws:SourceArn condition. Neither documents those keys for this delivery, and a condition that does not
    hold drops every event without an error anywhere. The topic policy keeps the rule-ARN condition."""
    return {
        "Sid": "EventBridgeRulesUseKey",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }


def customer_managed_key(
    scope: Construct,
    id_: str,
    account: AwsAccount,
    description: str,
    *,
    statements: Sequence[Statement] = (),
    alias: str | None = None,
    tags: Mapping[str, str] = NO_TAGS,
    lifecycle: TerraformResourceLifecycle | None = None,
    provider: TerraformProvider | None = None,
) -> KmsKey:
    """A rotating customer-managed key; its policy lets the account administer it through IAM
    (without that statement a key becomes unmanageable), then grants ``statements``. ``provider``:
    another region's provider (a key is regional: a copy in a second region needs a key there)."""
    administers = {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": account.root_arn},
        "Action": "kms:*",
        "Resource": "*",
    }
    key = KmsKey(
        scope,
        id_,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=dict(tags),
        policy=policy_document(administers, *statements),
        lifecycle=lifecycle,
        provider=provider,
    )
    if alias is not None:
        KmsAlias(scope, f"{id_}-alias", name=f"alias/{alias}", target_key_id=key.key_id, provider=provider)
    return key


def log_group(scope: Construct, id_: str, context: StageContext, name: str, retention_days: int) -> CloudwatchLogGroup:
    """A log group with its retention, encrypted with the stage's log key where it has one."""
    return CloudwatchLogGroup(
        scope,
        id_,
        name=name,
        retention_in_days=retention_days,
        kms_key_id=context.log_kms_key_arn,
        tags=context.resource_tags,
    )


def service_role(
    scope: Construct,
    id_: str,
    name: str,
    service: str,
    *,
    description: str | None = None,
    tags: Mapping[str, str] = NO_TAGS,
) -> IamRole:
    """An IAM role only ``service`` (e.g. ``ec2.amazonaws.com``) may assume."""
    return IamRole(
        scope, id_, name=name, description=description, assume_role_policy=assume_role_policy(service), tags=dict(tags)
    )


def parameter_path(name: str, tier: str) -> str:
    """Where a tier's connection parameters live: ``/digital-booking/<stage>/<tier>``."""
    return f"/digital-booking/{name}/{tier}"


def connection_parameters(
    scope: Construct, context: StageContext, tier: str, key_arn: str, values: Mapping[str, str]
) -> str:
    """Where a client finds a tier: one SecureString SSM parameter per value under
    ``/digital-booking/<stage>/<tier>/``, encrypted with the tier's key. None is secret, but
    endpoints and ARNs are reconnaissance (FSBP/checkov CKV2_AWS_34 want them encrypted).
    Returns the path."""
    prefix = parameter_path(context.name, tier)
    for key, value in values.items():
        SsmParameter(
            scope,
            f"parameter-{key}",
            name=f"{prefix}/{key}",
            type="SecureString",
            key_id=key_arn,
            value=value,
            description=f"{context.name} {tier} {key.replace('-', ' ')} (no secret values)",
            tags=context.resource_tags,
        )
    return prefix


def read_parameters_statement(context: StageContext, prefix: str) -> Statement:
    """Read the SSM parameters under ``prefix`` (see :func:`connection_parameters`)."""
    parameters = context.account.arn("ssm", f"parameter{prefix}", context.region)
    return {
        "Sid": "ReadConnectionParameters",
        "Effect": "Allow",
        "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
        "Resource": [parameters, f"{parameters}/*"],
    }


def decrypt_parameters_statement(context: StageContext, key_arn: str) -> Statement:
    """Decrypt those parameters, and only through SSM."""
    return {
        "Sid": "DecryptConnectionParameters",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key_arn,
        "Condition": via_service("ssm", context.region),
    }


def lock_down_bucket(
    scope: Construct,
    prefix: str,
    bucket_id: str,
    *,
    object_ownership: str = "BucketOwnerEnforced",
    provider: TerraformProvider | None = None,
) -> S3BucketVersioningA:
    """All four public-access flags, the given object ownership (ACLs off by default), versioning on;
    returns the versioning (what replication must wait for).

    The resources get ids ``<prefix>-public-access-block``, ``-ownership`` and ``-versioning`` in
    ``scope``, so each tier keeps its own Terraform addresses. ``provider``: the bucket's region's
    provider when it is not the stack's default one."""
    S3BucketPublicAccessBlock(
        scope,
        f"{prefix}-public-access-block",
        bucket=bucket_id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        provider=provider,
    )
    S3BucketOwnershipControls(
        scope,
        f"{prefix}-ownership",
        bucket=bucket_id,
        rule=S3BucketOwnershipControlsRule(object_ownership=object_ownership),
        provider=provider,
    )
    return S3BucketVersioningA(
        scope,
        f"{prefix}-versioning",
        bucket=bucket_id,
        versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        provider=provider,
    )


def encrypt_bucket(
    scope: Construct,
    prefix: str,
    bucket_id: str,
    kms_key_arn: str | None = None,
    *,
    provider: TerraformProvider | None = None,
) -> None:
    """SSE-KMS with a bucket key when a key is given; SSE-S3 otherwise (all that ALB log delivery can write)."""
    if kms_key_arn is None:
        default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="AES256"
        )
        rule = S3BucketServerSideEncryptionConfigurationRuleA(apply_server_side_encryption_by_default=default)
    else:
        default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
        )
        rule = S3BucketServerSideEncryptionConfigurationRuleA(
            bucket_key_enabled=True, apply_server_side_encryption_by_default=default
        )
    S3BucketServerSideEncryptionConfigurationA(
        scope, f"{prefix}-encryption", bucket=bucket_id, rule=[rule], provider=provider
    )


def tier_security_group(
    scope: Construct, context: StageContext, vpc_id: str, short: str, description: str
) -> SecurityGroup:
    """A tier's own security group (``<stage>-<short>-`` name prefix, so a replacement is made before
    the old group goes)."""
    return SecurityGroup(
        scope,
        "security-group",
        name_prefix=f"{context.name}-{short}-",
        vpc_id=vpc_id,
        description=description,
        tags=context.named(f"{context.name}-{short}"),
        lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
    )


def open_port(
    scope: Construct,
    port: int,
    *,
    to_group: str,
    from_group: str,
    ingress: tuple[str, str],
    egress: tuple[str, str],
    tags: Mapping[str, str] | None = None,
) -> None:
    """Both sides of one TCP port between two security groups: ``(id, description)`` of the ingress
    rule on ``to_group`` and of the egress rule on ``from_group``."""
    rule_tags = dict(tags) if tags is not None else None
    VpcSecurityGroupIngressRule(
        scope,
        ingress[0],
        security_group_id=to_group,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        referenced_security_group_id=from_group,
        description=ingress[1],
        tags=rule_tags,
    )
    VpcSecurityGroupEgressRule(
        scope,
        egress[0],
        security_group_id=from_group,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        referenced_security_group_id=to_group,
        description=egress[1],
        tags=rule_tags,
    )


def expire_logs(
    scope: Construct,
    id_: str,
    bucket_id: str,
    days: int,
    cleanup_days: int,
    *,
    provider: TerraformProvider | None = None,
) -> None:
    """A log bucket's lifecycle: objects expire after ``days``; old versions and unfinished uploads
    are cleaned up after ``cleanup_days``."""
    S3BucketLifecycleConfiguration(
        scope,
        id_,
        bucket=bucket_id,
        provider=provider,
        rule=[
            S3BucketLifecycleConfigurationRule(
                id="expire-access-logs",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=days)],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=cleanup_days)
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=cleanup_days)
                ],
            )
        ],
    )


#: The attribute a resource using :func:`final_snapshot_name` must ignore changes to.
FINAL_SNAPSHOT_ATTRIBUTE = "final_snapshot_identifier"


def final_snapshot_name(prefix: str) -> str:
    """``<prefix>-final-<UTC time of creation, YYYYMMDDhhmmss>``, for ``final_snapshot_identifier``.

    A fixed name makes the second delete of a re-created stage fail: the first delete's snapshot
    holds it (RDS ``DBSnapshotAlreadyExists``). ``timestamp()`` is the time of each apply, so the
    resource lists :data:`FINAL_SNAPSHOT_ATTRIBUTE` in ``lifecycle.ignore_changes``: the name is
    fixed when the resource is created, and later plans stay empty. Letters, digits and single
    hyphens, as RDS and ElastiCache snapshot names require.
    """
    return f"{prefix}-final-{Fn.formatdate('YYYYMMDDhhmmss', Fn.timestamp())}"
