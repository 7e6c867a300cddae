"""Cache tier: an ElastiCache Redis replication group in the private-data subnets.

- Read-through cache in front of the database: ``allkeys-lru`` eviction by default, so a full
  cache drops the coldest keys instead of refusing writes.
- Encrypted at rest with this tier's KMS key and in transit (TLS required).
- Authentication without a secret anywhere: Redis RBAC with an IAM-authenticated user. The app
  servers' role gets ``elasticache:Connect`` and signs a short-lived IAM token; there is no
  AUTH token to keep in code, user data, Secrets Manager or Terraform state. The group's
  mandatory ``default`` user is switched off.
- With ``automatic_failover``: a replica in another AZ is promoted when the primary fails
  (Multi-AZ). Daily snapshots with retention (and a final one on delete), slow log to CloudWatch,
  events to the alarm topic.
- Where the app finds it: SecureString SSM parameters (this tier's key) under
  ``/digital-booking/<name>/cache/``, readable and decryptable by the client role only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.elasticache_parameter_group import (
    ElasticacheParameterGroup,
    ElasticacheParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.elasticache_user import ElasticacheUser, ElasticacheUserAuthenticationMode
from cdktf_cdktf_provider_aws.elasticache_user_group import ElasticacheUserGroup
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules._key_policy import account_administers_key

REDIS_PORT = 6379


@dataclass(frozen=True)
class BookingCacheProps:
    """What the cache tier needs. Every field has a default; a stage overrides what it must."""

    #: Prefix of every resource name, e.g. ``digital-booking-dev``.
    name: str = "digital-booking"
    #: Region, for the ARNs of the SSM parameters the client may read.
    region: str = "eu-west-1"
    #: VPC of the cache security group.
    vpc_id: str = ""
    #: Private-data subnets, one per AZ.
    subnet_ids: tuple[str, ...] = ()
    #: The only security group allowed to connect (the app servers'); gets a matching egress rule.
    client_security_group_id: str = ""
    #: Role allowed to connect (IAM auth) and read the connection parameters; None: nobody.
    client_role_name: str | None = None
    #: Node type of every node (vertical sizing).
    node_type: str = "cache.t4g.small"
    #: Nodes: one primary and ``node_count - 1`` replicas (horizontal read scaling).
    node_count: int = 2
    #: Promote a replica automatically when the primary fails; spreads nodes over AZs (Multi-AZ).
    automatic_failover: bool = True
    #: Redis engine version.
    engine_version: str = "7.1"
    #: Eviction policy when memory is full.
    maxmemory_policy: str = "allkeys-lru"
    #: Days of daily snapshots (0: none).
    snapshot_retention_days: int = 1
    #: Daily snapshot window (UTC).
    snapshot_window: str = "01:00-02:00"
    #: Weekly maintenance window (UTC).
    maintenance_window: str = "sun:04:30-sun:05:30"
    #: Days the slow log is kept.
    log_retention_days: int = 30
    #: KMS key for the slow-log group; None uses CloudWatch's own encryption.
    log_kms_key_arn: str | None = None
    #: SNS topic for ElastiCache events (failover, node replaced...); None: no notifications.
    alarm_topic_arn: str | None = None
    #: Tags for resources of this tier (the provider adds the stage's default tags).
    tags: dict[str, str] = field(default_factory=dict)


class BookingCache(Construct):
    """The Redis replication group and what it needs. See the module docstring."""

    def __init__(self, scope: Construct, id_: str, props: BookingCacheProps = BookingCacheProps()) -> None:
        super().__init__(scope, id_)
        if props.automatic_failover and props.node_count < 2:
            raise ValueError(f"BookingCacheProps.node_count = {props.node_count}: automatic failover needs 2 or more")
        name = props.name
        self.port: int = REDIS_PORT
        account_id = DataAwsCallerIdentity(self, "account").account_id

        self.kms_key = KmsKey(
            self, "key", description=f"{name}: cache data at rest and its connection parameters",
            enable_key_rotation=True,
            deletion_window_in_days=30, tags=props.tags,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [account_administers_key(account_id)]}))

        self.security_group = SecurityGroup(
            self, "security-group", name_prefix=f"{name}-cache-", vpc_id=props.vpc_id,
            description=f"{name} cache: Redis port from the app servers only",
            tags={"Name": f"{name}-cache", **props.tags},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True))
        #: The cache's security group (no egress rules: the cache starts no connections).
        self.security_group_id: str = self.security_group.id
        VpcSecurityGroupIngressRule(
            self, "ingress-from-clients", security_group_id=self.security_group.id, ip_protocol="tcp",
            from_port=REDIS_PORT, to_port=REDIS_PORT, referenced_security_group_id=props.client_security_group_id,
            description="Redis (TLS) from the app servers")
        VpcSecurityGroupEgressRule(
            self, "client-egress-to-cache", security_group_id=props.client_security_group_id, ip_protocol="tcp",
            from_port=REDIS_PORT, to_port=REDIS_PORT, referenced_security_group_id=self.security_group.id,
            description="App servers to the Redis cache")

        subnet_group = ElasticacheSubnetGroup(self, "subnet-group", name=f"{name}-cache",
                                              subnet_ids=list(props.subnet_ids),
                                              description=f"{name} cache: private-data subnets", tags=props.tags)
        parameter_group = ElasticacheParameterGroup(
            self, "parameter-group", name=f"{name}-redis7", family="redis7",
            description=f"{name}: read-through cache eviction",
            parameter=[ElasticacheParameterGroupParameter(name="maxmemory-policy", value=props.maxmemory_policy)],
            tags=props.tags)

        # RBAC: the mandatory "default" user is off; the app's user authenticates with IAM (no password).
        default_user = ElasticacheUser(
            self, "default-user", user_id=f"{name}-default", user_name="default", engine="redis",
            access_string="off -@all",
            authentication_mode=ElasticacheUserAuthenticationMode(type="no-password-required"),
            tags=props.tags)
        self.app_user = ElasticacheUser(
            self, "app-user", user_id=f"{name}-app", user_name=f"{name}-app", engine="redis",
            access_string="on ~* +@all -@dangerous", authentication_mode=ElasticacheUserAuthenticationMode(type="iam"),
            tags=props.tags)
        user_group = ElasticacheUserGroup(self, "user-group", user_group_id=f"{name}-cache-users", engine="redis",
                                          user_ids=[default_user.user_id, self.app_user.user_id], tags=props.tags)

        self.slow_log_group = CloudwatchLogGroup(
            self, "slow-log", name=f"/digital-booking/{name}/cache/slow-log",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.log_kms_key_arn, tags=props.tags)

        group_id = f"{name}-cache"
        failover = props.automatic_failover
        self.replication_group = ElasticacheReplicationGroup(
            self, "replication-group", replication_group_id=group_id, description=f"{name} read-through cache",
            engine="redis", engine_version=props.engine_version, node_type=props.node_type,
            num_cache_clusters=props.node_count, port=REDIS_PORT, parameter_group_name=parameter_group.name,
            subnet_group_name=subnet_group.name, security_group_ids=[self.security_group.id],
            automatic_failover_enabled=failover, multi_az_enabled=failover,
            # In provider 5.100 these two are strings, not booleans.
            at_rest_encryption_enabled="true", auto_minor_version_upgrade="true", kms_key_id=self.kms_key.arn,
            transit_encryption_enabled=True, transit_encryption_mode="required",
            user_group_ids=[user_group.user_group_id],
            snapshot_retention_limit=props.snapshot_retention_days,
            snapshot_window=props.snapshot_window if props.snapshot_retention_days else None,
            # A stage that keeps snapshots (prod, staging) also keeps a last one when the group is deleted.
            final_snapshot_identifier=f"{group_id}-final" if props.snapshot_retention_days else None,
            maintenance_window=props.maintenance_window, notification_topic_arn=props.alarm_topic_arn,
            log_delivery_configuration=[ElasticacheReplicationGroupLogDeliveryConfiguration(
                destination=self.slow_log_group.name, destination_type="cloudwatch-logs", log_format="json",
                log_type="slow-log")],
            apply_immediately=False, tags=props.tags)

        #: What the monitoring tier and the outputs need. Member ids follow ElastiCache's naming.
        self.replication_group_id: str = self.replication_group.replication_group_id
        self.member_cluster_ids: list[str] = [f"{group_id}-{n:03d}" for n in range(1, props.node_count + 1)]
        self.primary_endpoint_address: str = self.replication_group.primary_endpoint_address
        self.reader_endpoint_address: str = self.replication_group.reader_endpoint_address
        self.slow_log_group_name: str = self.slow_log_group.name
        self.app_user_name: str = self.app_user.user_name

        prefix = f"/digital-booking/{name}/cache"
        for key, value in (("primary-endpoint", self.primary_endpoint_address),
                           ("reader-endpoint", self.reader_endpoint_address), ("port", str(REDIS_PORT)),
                           ("user", self.app_user_name), ("replication-group-id", self.replication_group_id)):
            # SecureString under this tier's key although nothing here is secret (checkov CKV2_AWS_34).
            SsmParameter(self, f"parameter-{key}", name=f"{prefix}/{key}", type="SecureString", key_id=self.kms_key.arn,
                         value=value,
                         description=f"{name} cache {key.replace('-', ' ')} (no secret values)", tags=props.tags)
        self.parameter_path: str = prefix
        if props.client_role_name:
            IamRolePolicy(self, "client-connect-policy", name=f"{name}-connect-cache", role=props.client_role_name,
                          policy=json.dumps({"Version": "2012-10-17", "Statement": [
                              {"Sid": "ConnectWithIam", "Effect": "Allow", "Action": "elasticache:Connect",
                               "Resource": [self.replication_group.arn, self.app_user.arn]},
                              {"Sid": "DecryptConnectionParameters", "Effect": "Allow", "Action": "kms:Decrypt",
                               "Resource": self.kms_key.arn,
                               "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{props.region}.amazonaws.com"}}},
                              {"Sid": "ReadConnectionParameters", "Effect": "Allow",
                               "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                               "Resource": [f"arn:aws:ssm:{props.region}:{account_id}:parameter{prefix}",
                                            f"arn:aws:ssm:{props.region}:{account_id}:parameter{prefix}/*"]}]}))
