"""Monitoring tier: who hears about trouble, and the alarms and dashboard that tell them.

Two constructs, created at the two ends of a stage stack:

- :class:`StageAlerting` (first, before every other tier): the stage's KMS-encrypted SNS alarm
  topic with its e-mail subscribers, and, when ``encrypt_logs`` (prod), the KMS key every log
  group of the stage is encrypted with. The other tiers take ``alarm_topic_arn`` and
  ``log_kms_key_arn`` from it (each tier's log retention is in its own stage section).
- :class:`PlatformAlarms` (last): metric alarms on every tier, each sending to the topic when it
  fires and when it clears, and one CloudWatch dashboard with the golden signals of every tier.
  Alarms are derived from the other tiers' public attributes (one per NAT gateway, per database
  instance and replica, per cache member cluster), never from hard-coded names; a tier the stack
  does not have simply gets no alarms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
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

from modules._key_policy import account_administers_key

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
    #: Encrypt the stage's log groups with a customer-managed KMS key (prod); else CloudWatch's own.
    encrypt_logs: bool = False
    #: Tags for resources of this tier (the provider adds the stage's default tags).
    tags: dict[str, str] = field(default_factory=dict)


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
                account_administers_key(account_id, partition),
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
        #: KMS key for every log group of the stage, or None (CloudWatch's own encryption).
        self.log_kms_key_arn: str | None = None
        if props.encrypt_logs:
            log_group_arns = f"arn:{partition}:logs:{props.region}:{account_id}:log-group:*"
            self.log_key = KmsKey(
                self, "log-key", description=f"Encrypts the {name} CloudWatch log groups", enable_key_rotation=True,
                deletion_window_in_days=30, tags=props.tags,
                policy=json.dumps({"Version": "2012-10-17", "Statement": [
                    account_administers_key(account_id, partition),
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


@dataclass(frozen=True)
class AlarmThresholds:
    """When each alarm fires. Field names and defaults match the stage file's ``[monitoring]``."""

    #: Seconds per evaluated period, and how many consecutive breaching periods fire an alarm.
    period_seconds: int = 300
    evaluation_periods: int = 3
    #: ALB: 5xx responses (from the ALB itself, and from the targets) per period.
    alb_5xx_count: int = 10
    #: ALB: 4xx responses (ALB + targets) per period that count as a surge.
    alb_4xx_count: int = 500
    #: ALB: target response time percentile (``p95``/``p99``) and its limit in seconds.
    target_response_time_statistic: str = "p99"
    target_response_time_seconds: float = 1.5
    #: ALB: unhealthy targets.
    unhealthy_hosts: int = 1
    #: WAF: blocked requests per period that count as a spike.
    waf_blocked_requests: int = 1000
    #: App servers: average CPU %.
    app_cpu_percent: float = 80.0
    #: Database (every instance): CPU %, free storage (GiB), connections, freeable memory (MiB).
    db_cpu_percent: float = 80.0
    db_free_storage_gib: float = 5.0
    db_connections: int = 200
    db_freeable_memory_mib: int = 256
    #: Database read replicas: lag in seconds.
    db_replica_lag_seconds: int = 60
    #: Cache (every member): engine CPU %, memory % of maxmemory, evictions per period, replica lag (s).
    cache_engine_cpu_percent: float = 75.0
    cache_memory_percent: float = 80.0
    cache_evictions: int = 100
    cache_replication_lag_seconds: float = 30.0
    #: NAT gateways: port-allocation errors per period above which it fires (0: any error).
    nat_port_allocation_errors: int = 0

    @classmethod
    def taken_from(cls, source: Any) -> "AlarmThresholds":
        """The thresholds named like this class's fields on ``source`` (e.g. the stage's [monitoring])."""
        return cls(**{f.name: getattr(source, f.name) for f in fields(cls) if hasattr(source, f.name)})


@dataclass(frozen=True)
class PlatformAlarmsProps:
    """The alarm topic, the thresholds, and the other tiers' public attributes (None/empty: tier absent)."""

    #: Prefix of every alarm and of the dashboard, e.g. ``digital-booking-dev``.
    name: str = "digital-booking"
    #: Region of the stage (WAF metrics and the dashboard's widgets).
    region: str = "eu-west-1"
    #: SNS topic every alarm notifies when it fires and when it clears (from StageAlerting). Required.
    alarm_topic_arn: str | None = None
    #: When each alarm fires.
    thresholds: AlarmThresholds = AlarmThresholds()
    #: Network: one port-allocation alarm per NAT gateway.
    nat_gateway_ids: tuple[str, ...] = ()
    #: Load balancer: ``arn_suffix`` of the ALB and of its target group.
    alb_arn_suffix: str | None = None
    target_group_arn_suffix: str | None = None
    #: WAF: the web ACL's CloudWatch *metric name* (its ``visibility_config``), which is what WAF
    #: publishes as the ``WebACL`` dimension; the ACL's name only matches when both are the same.
    web_acl_metric_name: str | None = None
    #: App servers: the Auto Scaling group.
    autoscaling_group_name: str | None = None
    #: Database: the primary's identifier and each read replica's.
    db_instance_identifier: str | None = None
    db_replica_identifiers: tuple[str, ...] = ()
    #: Cache: the replication group and its member clusters (one node each).
    cache_replication_group_id: str | None = None
    cache_member_cluster_ids: tuple[str, ...] = ()
    #: Static assets: the CloudFront distribution (dashboard only: its metrics live in us-east-1).
    distribution_id: str | None = None
    #: Tags for the alarms (each alarm also gets a ``tier`` tag).
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_tiers(cls, *, name: str, region: str, alarm_topic_arn: str, thresholds: AlarmThresholds,
                   network: Any = None, load_balancer: Any = None, app_servers: Any = None, database: Any = None,
                   cache: Any = None, static_assets: Any = None, tags: dict[str, str] | None = None
                   ) -> "PlatformAlarmsProps":
        """Props from the tiers' public attributes; a tier passed as None (absent) gets no alarms."""
        return cls(
            name=name, region=region, alarm_topic_arn=alarm_topic_arn, thresholds=thresholds, tags=tags or {},
            nat_gateway_ids=tuple(network.nat_gateway_ids) if network is not None else (),
            alb_arn_suffix=load_balancer.alb_arn_suffix if load_balancer is not None else None,
            target_group_arn_suffix=load_balancer.target_group_arn_suffix if load_balancer is not None else None,
            web_acl_metric_name=_web_acl_metric_name(load_balancer),
            autoscaling_group_name=app_servers.autoscaling_group_name if app_servers is not None else None,
            db_instance_identifier=database.instance_identifier if database is not None else None,
            db_replica_identifiers=tuple(database.replica_identifiers) if database is not None else (),
            cache_replication_group_id=cache.replication_group_id if cache is not None else None,
            cache_member_cluster_ids=tuple(cache.member_cluster_ids) if cache is not None else (),
            distribution_id=getattr(static_assets, "distribution_id", None))


def _web_acl_metric_name(load_balancer: Any) -> str | None:
    """The WAF ``WebACL`` metric dimension of a load balancer tier, or None without a web ACL."""
    if load_balancer is None or not getattr(load_balancer, "web_acl_name", None):
        return None
    explicit = getattr(load_balancer, "web_acl_metric_name", None)
    if explicit:
        return explicit
    web_acl = getattr(load_balancer, "web_acl", None)
    return web_acl.visibility_config.metric_name if web_acl is not None else load_balancer.web_acl_name


GIB = 1024 ** 3
MIB = 1024 ** 2


class PlatformAlarms(Construct):
    """Alarms with actions on every tier present, and the stage's golden-signals dashboard."""

    def __init__(self, scope: Construct, id_: str, props: PlatformAlarmsProps = PlatformAlarmsProps()) -> None:
        super().__init__(scope, id_)
        if not props.alarm_topic_arn:
            raise ValueError("PlatformAlarms needs alarm_topic_arn: an alarm nobody hears is no alarm")
        self.props = props
        self.alarms: list[CloudwatchMetricAlarm] = []
        #: Alarm names by tier, e.g. ``{"database": [...], ...}``.
        self.alarm_names: dict[str, list[str]] = {}
        self._widgets: list[dict[str, Any]] = []
        t = props.thresholds

        for index, nat_id in enumerate(props.nat_gateway_ids, start=1):
            self._alarm("network", f"nat-{index}-port-allocation-errors",
                        f"NAT gateway {index} failed to allocate source ports: connections to the internet drop",
                        "AWS/NATGateway", "ErrorPortAllocation", {"NatGatewayId": nat_id}, "Sum",
                        "GreaterThanThreshold", t.nat_port_allocation_errors, missing="notBreaching")
        if props.nat_gateway_ids:
            self._widget("NAT gateways: port-allocation errors, active connections", [
                *[["AWS/NATGateway", "ErrorPortAllocation", "NatGatewayId", n, {"stat": "Sum"}]
                  for n in props.nat_gateway_ids],
                *[["AWS/NATGateway", "ActiveConnectionCount", "NatGatewayId", n, {"stat": "Maximum"}]
                  for n in props.nat_gateway_ids]])

        if props.alb_arn_suffix:
            self._load_balancer_alarms(props.alb_arn_suffix, props.target_group_arn_suffix)
        if props.web_acl_metric_name:
            waf = {"WebACL": props.web_acl_metric_name, "Region": props.region, "Rule": "ALL"}
            self._alarm("security", "waf-blocked-requests-spike",
                        "WAF is blocking an unusual number of requests: an attack, or a rule blocking real users",
                        "AWS/WAFV2", "BlockedRequests", waf, "Sum", "GreaterThanThreshold", t.waf_blocked_requests,
                        missing="notBreaching")
            self._widget("WAF: allowed and blocked requests", [
                ["AWS/WAFV2", metric, "WebACL", props.web_acl_metric_name, "Region", props.region, "Rule", "ALL",
                 {"stat": "Sum"}] for metric in ("AllowedRequests", "BlockedRequests")])

        if props.autoscaling_group_name:
            asg = {"AutoScalingGroupName": props.autoscaling_group_name}
            self._alarm("app", "app-cpu-high", "App servers' average CPU is high: scaling is not keeping up",
                        "AWS/EC2", "CPUUtilization", asg, "Average", "GreaterThanThreshold", t.app_cpu_percent)
            self._widget("App servers: CPU and network", [
                ["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", props.autoscaling_group_name,
                 {"stat": "Average"}],
                ["AWS/EC2", "NetworkOut", "AutoScalingGroupName", props.autoscaling_group_name,
                 {"stat": "Sum", "yAxis": "right"}]])

        if props.db_instance_identifier:
            instances = [("primary", props.db_instance_identifier)] + [
                (f"replica-{index}", identifier)
                for index, identifier in enumerate(props.db_replica_identifiers, start=1)]
            for label, identifier in instances:
                self._database_alarms(label, identifier, is_replica=label != "primary")

        replicated = len(props.cache_member_cluster_ids) > 1
        for index, member in enumerate(props.cache_member_cluster_ids, start=1):
            self._cache_alarms(f"node-{index}", member, replicated)
        if props.cache_member_cluster_ids:
            members = props.cache_member_cluster_ids
            for title, metric, stat in (("Cache: engine CPU %", "EngineCPUUtilization", "Average"),
                                        ("Cache: memory % and evictions", "DatabaseMemoryUsagePercentage", "Maximum"),
                                        ("Cache: hit rate", "CacheHitRate", "Average"),
                                        ("Cache: current connections", "CurrConnections", "Maximum")):
                lines = [["AWS/ElastiCache", metric, "CacheClusterId", m, {"stat": stat}] for m in members]
                if metric == "DatabaseMemoryUsagePercentage":
                    lines += [["AWS/ElastiCache", "Evictions", "CacheClusterId", m, {"stat": "Sum", "yAxis": "right"}]
                              for m in members]
                self._widget(title, lines)

        if props.distribution_id:
            self._widget("Static assets (CloudFront): requests and error rates", [
                ["AWS/CloudFront", "Requests", "DistributionId", props.distribution_id, "Region", "Global",
                 {"stat": "Sum"}],
                *[["AWS/CloudFront", metric, "DistributionId", props.distribution_id, "Region", "Global",
                   {"stat": "Average", "yAxis": "right"}] for metric in ("4xxErrorRate", "5xxErrorRate")]],
                region="us-east-1")

        self.dashboard = CloudwatchDashboard(self, "dashboard", dashboard_name=props.name,
                                             dashboard_body=json.dumps({"widgets": self._laid_out()}))
        #: The dashboard's name.
        self.dashboard_name: str = props.name

    # -- tiers ------------------------------------------------------------------------------------

    def _load_balancer_alarms(self, alb: str, target_group: str | None) -> None:
        t = self.props.thresholds
        lb = {"LoadBalancer": alb}
        tg = {"LoadBalancer": alb, "TargetGroup": target_group} if target_group else lb
        self._alarm("load_balancer", "alb-5xx", "The load balancer itself answers 5xx (no healthy target, overload)",
                    "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, "Sum", "GreaterThanThreshold",
                    t.alb_5xx_count, missing="notBreaching")
        self._alarm("load_balancer", "alb-target-5xx", "The app servers answer 5xx",
                    "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, "Sum", "GreaterThanThreshold",
                    t.alb_5xx_count, missing="notBreaching")
        self._alarm("load_balancer", f"alb-target-response-time-{t.target_response_time_statistic}",
                    f"Target response time at {t.target_response_time_statistic} is slow",
                    "AWS/ApplicationELB", "TargetResponseTime", tg, t.target_response_time_statistic,
                    "GreaterThanThreshold", t.target_response_time_seconds, missing="notBreaching")
        if target_group:
            self._alarm("load_balancer", "alb-unhealthy-hosts", "App servers are failing the health check",
                        "AWS/ApplicationELB", "UnHealthyHostCount", tg, "Maximum", "GreaterThanOrEqualToThreshold",
                        t.unhealthy_hosts)
        # Security: a surge of 4xx (ALB + targets) is what scans and credential stuffing look like.
        self._alarm("security", "alb-4xx-surge",
                    "A surge of 4xx responses: scanning, credential stuffing, or a broken client release",
                    "AWS/ApplicationELB", None, lb, "Sum", "GreaterThanThreshold", t.alb_4xx_count,
                    missing="notBreaching",
                    expression=("FILL(elb4xx, 0) + FILL(target4xx, 0)",
                                {"elb4xx": "HTTPCode_ELB_4XX_Count", "target4xx": "HTTPCode_Target_4XX_Count"}))
        self._widget("Load balancer: requests and errors", [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", alb, {"stat": "Sum"}],
            *[["AWS/ApplicationELB", metric, "LoadBalancer", alb, {"stat": "Sum", "yAxis": "right"}]
              for metric in ("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_4XX_Count",
                             "HTTPCode_Target_4XX_Count")]])
        self._widget("Load balancer: target response time", [
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", alb, {"stat": stat}]
            for stat in ("p50", "p95", "p99")])
        if target_group:
            self._widget("Load balancer: healthy and unhealthy targets", [
                ["AWS/ApplicationELB", metric, "TargetGroup", target_group, "LoadBalancer", alb, {"stat": "Maximum"}]
                for metric in ("HealthyHostCount", "UnHealthyHostCount")])

    def _database_alarms(self, label: str, identifier: str, is_replica: bool) -> None:
        t = self.props.thresholds
        db = {"DBInstanceIdentifier": identifier}
        self._alarm("database", f"db-{label}-cpu-high", f"Database {label}: CPU is high",
                    "AWS/RDS", "CPUUtilization", db, "Average", "GreaterThanThreshold", t.db_cpu_percent)
        self._alarm("database", f"db-{label}-free-storage-low",
                    f"Database {label}: free storage is low (autoscaling at its maximum?)",
                    "AWS/RDS", "FreeStorageSpace", db, "Minimum", "LessThanThreshold", t.db_free_storage_gib * GIB)
        self._alarm("database", f"db-{label}-connections-high", f"Database {label}: too many connections",
                    "AWS/RDS", "DatabaseConnections", db, "Maximum", "GreaterThanThreshold", t.db_connections)
        self._alarm("database", f"db-{label}-freeable-memory-low", f"Database {label}: freeable memory is low",
                    "AWS/RDS", "FreeableMemory", db, "Minimum", "LessThanThreshold", t.db_freeable_memory_mib * MIB)
        if is_replica:
            self._alarm("database", f"db-{label}-replica-lag", f"Database {label}: replica lags behind the primary",
                        "AWS/RDS", "ReplicaLag", db, "Maximum", "GreaterThanThreshold", t.db_replica_lag_seconds)
        def line(metric: str, stat: str, axis: str = "left") -> list[Any]:
            return ["AWS/RDS", metric, "DBInstanceIdentifier", identifier, {"stat": stat, "yAxis": axis}]

        self._widget(f"Database {label}: CPU, connections",
                     [line("CPUUtilization", "Average"), line("DatabaseConnections", "Maximum", "right")])
        self._widget(f"Database {label}: latency, free storage and memory" + (", replica lag" if is_replica else ""),
                     [line("ReadLatency", "Average"), line("WriteLatency", "Average"),
                      line("FreeStorageSpace", "Minimum", "right"), line("FreeableMemory", "Minimum", "right"),
                      *([line("ReplicaLag", "Maximum")] if is_replica else [])])

    def _cache_alarms(self, label: str, member: str, replicated: bool) -> None:
        t = self.props.thresholds
        node = {"CacheClusterId": member}
        self._alarm("cache", f"cache-{label}-engine-cpu-high", f"Cache {label}: the Redis engine thread is busy",
                    "AWS/ElastiCache", "EngineCPUUtilization", node, "Average", "GreaterThanThreshold",
                    t.cache_engine_cpu_percent)
        self._alarm("cache", f"cache-{label}-memory-high", f"Cache {label}: memory is nearly full (evictions follow)",
                    "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", node, "Maximum", "GreaterThanThreshold",
                    t.cache_memory_percent)
        self._alarm("cache", f"cache-{label}-evictions", f"Cache {label}: keys are being evicted",
                    "AWS/ElastiCache", "Evictions", node, "Sum", "GreaterThanThreshold", t.cache_evictions,
                    missing="notBreaching")
        if not replicated:
            return  # a single node has no replica, so no lag to watch
        # Only a replica reports ReplicationLag, and which member is the replica changes on failover.
        self._alarm("cache", f"cache-{label}-replication-lag", f"Cache {label}: the replica lags behind the primary",
                    "AWS/ElastiCache", "ReplicationLag", node, "Maximum", "GreaterThanThreshold",
                    t.cache_replication_lag_seconds, missing="notBreaching")

    # -- helpers ----------------------------------------------------------------------------------

    def _alarm(self, tier: str, suffix: str, description: str, namespace: str, metric: str | None,
               dimensions: dict[str, str], statistic: str, comparison: str, threshold: float, *,
               missing: str = "missing", expression: tuple[str, dict[str, str]] | None = None) -> None:
        props, t = self.props, self.props.thresholds
        percentile = statistic.startswith("p")
        common = dict(
            alarm_name=f"{props.name}-{suffix}", alarm_description=description, comparison_operator=comparison,
            threshold=threshold, evaluation_periods=t.evaluation_periods, datapoints_to_alarm=t.evaluation_periods,
            treat_missing_data=missing, actions_enabled=True, alarm_actions=[props.alarm_topic_arn],
            ok_actions=[props.alarm_topic_arn], tags={**props.tags, "tier": tier})
        if expression is not None:
            formula, metrics = expression
            queries = [CloudwatchMetricAlarmMetricQuery(
                id=query_id, return_data=False,
                metric=CloudwatchMetricAlarmMetricQueryMetric(namespace=namespace, metric_name=name, stat=statistic,
                                                              period=t.period_seconds, dimensions=dimensions))
                for query_id, name in metrics.items()]
            queries.append(CloudwatchMetricAlarmMetricQuery(id="total", expression=formula, label=description,
                                                            return_data=True))
            alarm = CloudwatchMetricAlarm(self, suffix, metric_query=queries, **common)
        else:
            alarm = CloudwatchMetricAlarm(
                self, suffix, namespace=namespace, metric_name=metric, dimensions=dimensions, period=t.period_seconds,
                statistic=None if percentile else statistic, extended_statistic=statistic if percentile else None,
                **common)
        self.alarms.append(alarm)
        self.alarm_names.setdefault(tier, []).append(f"{props.name}-{suffix}")

    def _widget(self, title: str, metrics: list[list[Any]], region: str | None = None) -> None:
        self._widgets.append({"type": "metric", "width": 12, "height": 6, "properties": {
            "title": title, "region": region or self.props.region, "view": "timeSeries", "stacked": False,
            "period": self.props.thresholds.period_seconds, "metrics": metrics}})

    def _laid_out(self) -> list[dict[str, Any]]:
        """Two widgets per row, in the order they were added (network, ALB, WAF, app, database, cache, CDN)."""
        return [{**widget, "x": (index % 2) * 12, "y": (index // 2) * 6} for index, widget in enumerate(self._widgets)]
