"""Cache tier: an ElastiCache Valkey (or Redis OSS) replication group in the private-data subnets.

- Valkey by default: the same commands and clients as Redis OSS 7, at a lower price per node
  (ElastiCache pricing); Redis OSS 7.0/7.1 stays selectable (``engine``). The parameter group
  family, the alarms' wording and the diagram follow the engine; TLS, RBAC and IAM authentication
  are the same for both (IAM authentication needs Valkey 7.2+ or Redis OSS 7.0+: every allowed
  version qualifies).

- Read-through cache in front of the database: ``allkeys-lru`` eviction by default, so a full
  cache drops the coldest keys instead of refusing writes.
- Encrypted at rest with this tier's KMS key and in transit (TLS required).
- Authentication without a secret anywhere: RBAC with an IAM-authenticated user. The app
  servers' role gets ``elasticache:Connect`` and signs a short-lived IAM token; there is no
  AUTH token to keep in code, user data, Secrets Manager or Terraform state. The group's
  mandatory ``default`` user is switched off. The users and their group are of the "redis"
  RBAC engine for both engines: ElastiCache accepts such a group for a Valkey cluster, while a
  "valkey" group admits only users that authenticate, and its ``default`` user could do so only
  with a password (IAM needs the user id to equal the name, and the id ``default`` is the
  account's built-in user): a password in Terraform state for a user that is switched off.
- With ``automatic_failover``: a replica in another AZ is promoted when the primary fails
  (Multi-AZ). Daily snapshots with retention (and a final one on delete), slow log to CloudWatch.
- Events (failover, node replacement, snapshots) go to the tier's own unencrypted topic with an
  ``aws:SourceOwner`` policy: the only kind ElastiCache can publish to ("Event Notifications and
  Amazon SNS"); the stage subscribes its on-call to it.
- Where the app finds it: SecureString SSM parameters (this tier's key) under
  ``/digital-booking/<name>/cache/``, readable and decryptable only by the roles
  :meth:`BookingCache.grant_connect` names; :meth:`BookingCache.allow_from` admits a client's
  security group on the cache port (both sides of the rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformResourceLifecycle
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
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from constructs import Construct

from modules.kit import (
    FINAL_SNAPSHOT_ATTRIBUTE,
    Connectable,
    Grantee,
    StageContext,
    Tier,
    connection_parameters,
    customer_managed_key,
    decrypt_parameters_statement,
    deny_insecure_transport,
    final_snapshot_name,
    log_group,
    open_port,
    policy_document,
    read_parameters_statement,
    tier_security_group,
)
from modules.network import Network
from modules.settings import (
    RETENTIONS,
    SectionProblems,
    check_range,
    check_retention,
    check_windows,
    setting,
)

#: The port of both engines (Valkey keeps Redis OSS's).
CACHE_PORT = 6379


CACHE_NODE_TYPE = re.compile(r"^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
#: Versions allowed per engine, with their parameter group family ("Engine specific parameters",
#: ElastiCache User Guide: Valkey 7.2 uses valkey7, 8.x valkey8, Redis OSS 7.x redis7). Valkey 9.x
#: is listed by ElastiCache too; its family name is not confirmed here, so it waits.
ENGINE_VERSIONS: dict[str, dict[str, str]] = {
    "valkey": {"7.2": "valkey7", "8.0": "valkey8", "8.1": "valkey8", "8.2": "valkey8"},
    "redis": {"7.0": "redis7", "7.1": "redis7"},
}
#: How people name the engine (alarms, dashboards, the diagram).
ENGINE_LABELS = {"valkey": "Valkey", "redis": "Redis OSS"}


@dataclass(frozen=True)
class CacheSettings:
    """[cache]: the Valkey (or Redis OSS) replication group in front of the database."""

    #: The engine: Valkey (cheaper per node, same commands and clients) or Redis OSS.
    engine: Literal["valkey", "redis"] = setting(
        "valkey", allowed="'valkey' (default: lower price per node) or 'redis' (Redis OSS)"
    )

    #: Node type of every node (vertical sizing).
    node_type: str = setting(
        "cache.t4g.small", allowed=("an ElastiCache node type 'cache.<family>.<size>', e.g. 'cache.r7g.large'")
    )
    #: Nodes: one primary and ``node_count - 1`` replicas (horizontal read scaling).
    node_count: int = setting(
        2, allowed=("1 to 6 nodes: a primary and node_count-1 replicas (at least 2 with automatic failover)")
    )
    #: Promote a replica automatically when the primary fails; spreads nodes over AZs (Multi-AZ).
    automatic_failover: bool = setting(
        True, allowed=("true or false: promote a replica in another AZ when the primary fails (true in production)")
    )
    engine_version: str = setting(
        "8.2", allowed="for valkey '7.2', '8.0', '8.1' or '8.2' (default); for redis '7.0' or '7.1'"
    )
    #: Eviction policy when memory is full.
    maxmemory_policy: Literal["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "volatile-ttl"] = setting(
        "allkeys-lru",
        allowed=(
            "'allkeys-lru' (read-through cache: evict the least recently used key), 'allkeys-lfu', 'volatile-lru',"
            " 'volatile-lfu' or 'volatile-ttl'"
        ),
    )
    #: Days of daily snapshots (0: none).
    snapshot_retention_days: int = setting(1, allowed="0 to 35 days of daily snapshots")
    snapshot_window: str = setting(
        "01:00-02:00", allowed=("'hh:mm-hh:mm' in UTC, at least 60 minutes, outside maintenance_window")
    )
    maintenance_window: str = setting(
        "sun:04:30-sun:05:30", allowed=("'ddd:hh:mm-ddd:hh:mm' in UTC, at least 60 minutes, outside snapshot_window")
    )
    #: Days the slow log is kept.
    log_retention_days: int = setting(30, allowed=f"a CloudWatch retention: {RETENTIONS}")

    @property
    def parameter_group_family(self) -> str:
        return ENGINE_VERSIONS[self.engine].get(self.engine_version, "")

    def check(self, problems: SectionProblems, region: str) -> None:
        if not CACHE_NODE_TYPE.match(self.node_type):
            problems.add(
                "node_type",
                self.node_type,
                "not an ElastiCache node type",
                "'cache.<family>.<size>', e.g. 'cache.r7g.large'",
            )
        check_range(problems, "node_count", self.node_count, 1, 6)
        if self.automatic_failover and self.node_count < 2:
            problems.add(
                "node_count",
                self.node_count,
                "automatic failover needs a replica to promote",
                "2 to 6 when automatic_failover is true",
            )
        versions = ENGINE_VERSIONS[self.engine]
        if self.engine_version not in versions:
            problems.add(
                "engine_version",
                self.engine_version,
                f"not a {ENGINE_LABELS[self.engine]} version this platform allows",
                f"for {self.engine}: " + ", ".join(repr(v) for v in versions),
            )
        check_range(problems, "snapshot_retention_days", self.snapshot_retention_days, 0, 35)
        check_windows(problems, "snapshot_window", self.snapshot_window, self.maintenance_window, 60, "ElastiCache")
        check_retention(problems, "log_retention_days", self.log_retention_days)


class BookingCache(Tier[CacheSettings]):
    """The Valkey (or Redis OSS) replication group and what it needs. See the module docstring."""

    def __init__(
        self, scope: Construct, id_: str, settings: CacheSettings, context: StageContext, *, network: Network
    ) -> None:
        super().__init__(scope, id_, settings, context)
        name = context.name
        self.network = network
        self.port: int = CACHE_PORT
        #: The engine, and how alarms and dashboards name it.
        self.engine: str = settings.engine
        self.engine_label: str = ENGINE_LABELS[settings.engine]

        self.kms_key = customer_managed_key(
            self, "key", context.account, f"{name}: cache data at rest and its connection parameters", tags=context.tags
        )

        self.security_group = tier_security_group(
            self,
            context,
            network.vpc_id,
            "cache",
            f"{name} cache: {self.engine_label} port from the app servers only",
        )
        #: The cache's security group (no egress rules: the cache starts no connections).
        self.security_group_id: str = self.security_group.id

        subnet_group = ElasticacheSubnetGroup(
            self,
            "subnet-group",
            name=f"{name}-cache",
            subnet_ids=list(network.private_data_subnet_ids),
            description=f"{name} cache: private-data subnets",
            tags=context.resource_tags,
        )
        family = settings.parameter_group_family
        parameter_group = ElasticacheParameterGroup(
            self,
            "parameter-group",
            name=f"{name}-{family}",
            family=family,
            description=f"{name}: read-through cache eviction",
            parameter=[ElasticacheParameterGroupParameter(name="maxmemory-policy", value=settings.maxmemory_policy)],
            tags=context.resource_tags,
            # A new engine or major version is a new family and group: the new one exists before the
            # replication group moves to it, the old one goes after.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

        # RBAC: the mandatory "default" user is off; the app's user authenticates with IAM (no password).
        # "redis" RBAC engine for both cache engines (see the module docstring).
        default_user = ElasticacheUser(
            self,
            "default-user",
            user_id=f"{name}-default",
            user_name="default",
            engine="redis",
            access_string="off -@all",
            authentication_mode=ElasticacheUserAuthenticationMode(type="no-password-required"),
            tags=context.resource_tags,
        )
        self.app_user = ElasticacheUser(
            self,
            "app-user",
            user_id=f"{name}-app",
            user_name=f"{name}-app",
            engine="redis",
            access_string="on ~* +@all -@dangerous",
            authentication_mode=ElasticacheUserAuthenticationMode(type="iam"),
            tags=context.resource_tags,
        )
        user_group = ElasticacheUserGroup(
            self,
            "user-group",
            user_group_id=f"{name}-cache-users",
            engine="redis",
            user_ids=[default_user.user_id, self.app_user.user_id],
            tags=context.resource_tags,
        )

        self.event_topic = self._event_topic()
        #: The topic ElastiCache sends its events to (failover, node replacement, snapshots...): the stage
        #: subscribes its on-call to it (``StageAlerting.subscribe_to``).
        self.event_topic_arn: str = self.event_topic.arn

        self.slow_log_group = log_group(
            self, "slow-log", context, f"/digital-booking/{name}/cache/slow-log", settings.log_retention_days
        )

        group_id = f"{name}-cache"
        failover = settings.automatic_failover
        keeps_snapshots = settings.snapshot_retention_days > 0
        self.replication_group = ElasticacheReplicationGroup(
            self,
            "replication-group",
            replication_group_id=group_id,
            description=f"{name} read-through cache",
            engine=settings.engine,
            engine_version=settings.engine_version,
            node_type=settings.node_type,
            num_cache_clusters=settings.node_count,
            port=CACHE_PORT,
            parameter_group_name=parameter_group.name,
            subnet_group_name=subnet_group.name,
            security_group_ids=[self.security_group.id],
            automatic_failover_enabled=failover,
            multi_az_enabled=failover,
            # In provider 5.100 these two are strings, not booleans.
            at_rest_encryption_enabled="true",
            auto_minor_version_upgrade="true",
            kms_key_id=self.kms_key.arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            user_group_ids=[user_group.user_group_id],
            snapshot_retention_limit=settings.snapshot_retention_days,
            snapshot_window=settings.snapshot_window if keeps_snapshots else None,
            # A stage that keeps snapshots (prod, staging) also keeps a last one when the group is deleted.
            final_snapshot_identifier=final_snapshot_name(group_id) if keeps_snapshots else None,
            maintenance_window=settings.maintenance_window,
            notification_topic_arn=self.event_topic.arn,
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=self.slow_log_group.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                )
            ],
            apply_immediately=False,
            tags=context.resource_tags,
            lifecycle=TerraformResourceLifecycle(ignore_changes=[FINAL_SNAPSHOT_ATTRIBUTE]),
        )

        #: What the monitoring tier and the outputs need. Member ids follow ElastiCache's naming.
        self.replication_group_id: str = self.replication_group.replication_group_id
        self.member_cluster_ids: list[str] = [f"{group_id}-{n:03d}" for n in range(1, settings.node_count + 1)]
        self.primary_endpoint_address: str = self.replication_group.primary_endpoint_address
        self.reader_endpoint_address: str = self.replication_group.reader_endpoint_address
        self.slow_log_group_name: str = self.slow_log_group.name
        self.app_user_name: str = self.app_user.user_name

        #: Where the app finds the cache (SSM parameters under this path).
        self.parameter_path: str = connection_parameters(
            self,
            context,
            "cache",
            self.kms_key.arn,
            {
                "primary-endpoint": self.primary_endpoint_address,
                "reader-endpoint": self.reader_endpoint_address,
                "port": str(CACHE_PORT),
                "engine": settings.engine,
                "user": self.app_user_name,
                "replication-group-id": self.replication_group_id,
            },
        )

    def _event_topic(self) -> SnsTopic:
        """ElastiCache's own notification topic. ElastiCache cannot publish to an encrypted topic (it shows
        an encrypted one as inactive and drops the events), and only the ``aws:SourceOwner`` condition lets
        it publish: so this topic, unlike the alarm topic, is not KMS-encrypted. Its messages are event
        notices (cluster ids, event names), no data; publishing and reading still need TLS."""
        context, account = self.context, self.context.account
        topic = SnsTopic(
            self,
            "event-topic",
            name=f"{context.name}-cache-events",
            display_name=f"{context.name} cache events",
            tags=context.resource_tags,
        )
        SnsTopicPolicy(
            self,
            "event-topic-policy",
            arn=topic.arn,
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
                    ],
                    "Resource": topic.arn,
                },
                {
                    "Sid": "ElastiCacheOfThisAccountPublishes",
                    "Effect": "Allow",
                    "Principal": {"Service": "elasticache.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic.arn,
                    "Condition": {"StringEquals": {"aws:SourceOwner": account.account_id}},
                },
                deny_insecure_transport("sns:Publish", topic.arn),
            ),
        )
        return topic

    def allow_from(self, client: Connectable) -> None:
        """Let ``client`` reach the cache port: ingress here, egress on the client's group."""
        label = client.connection_label
        open_port(
            self,
            CACHE_PORT,
            to_group=self.security_group.id,
            from_group=client.security_group_id,
            ingress=("ingress-from-clients", f"{self.engine_label} (TLS) from the {label}"),
            egress=("client-egress-to-cache", f"{label.capitalize()} to the {self.engine_label} cache"),
        )
        self.network.open_tier_port(
            CACHE_PORT, from_tier=client.subnet_tier, to_tier="private-data", what=self.engine_label
        )

    def grant_connect(self, role: Grantee) -> None:
        """Let ``role`` connect as the app user (IAM authentication) and find the cache."""
        context = self.context
        IamRolePolicy(
            self,
            "client-connect-policy",
            name=f"{context.name}-connect-cache",
            role=role.name,
            policy=policy_document(
                {
                    "Sid": "ConnectWithIam",
                    "Effect": "Allow",
                    "Action": "elasticache:Connect",
                    "Resource": [self.replication_group.arn, self.app_user.arn],
                },
                decrypt_parameters_statement(context, self.kms_key.arn),
                read_parameters_statement(context, self.parameter_path),
            ),
        )
