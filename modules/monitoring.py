"""Monitoring tier: who hears about trouble, and the alarms and dashboard that tell them.

Two constructs, created at the two ends of a stage stack:

- :class:`StageAlerting` (first, before every other tier): the stage's KMS-encrypted SNS alarm
  topic with its e-mail subscribers, and, when ``encrypt_logs`` (prod), the KMS key every log
  group of the stage is encrypted with. Every tier gets both through the stage context (each
  tier's log retention is in its own settings).
- :class:`PlatformAlarms` (last): metric alarms on every tier, each sending to the topic when it
  fires and when it clears, and one CloudWatch dashboard with the golden signals of every tier.
  Alarms are derived from what the other tiers expose (the ``Monitored*`` protocols below: one
  alarm per NAT gateway, per database instance and replica, per cache member cluster), never
  from hard-coded names; a tier the stack does not have simply gets no alarms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct, Node

from modules.kit import (
    AwsAccount,
    StageContext,
    customer_managed_key,
    deny_insecure_transport,
    eventbridge_uses_topic_key,
    policy_document,
)
from modules.settings import SectionProblems, check_range, setting

#: The AWS services that publish to the (KMS-encrypted) alarm topic, and the resources they publish
#: for: CloudWatch alarms, RDS event subscriptions and EventBridge rules (AWS Backup's failed jobs).
#: All may use a customer-managed key (SNS guide, "Enable compatibility between event sources from AWS
#: services and encrypted topics"); ElastiCache may not (its events have a topic of their own, see
#: modules/cache.py).
PUBLISHERS = {  # statement name: (service principal, ARN service, ARN resource)
    "CloudWatchAlarms": ("cloudwatch.amazonaws.com", "cloudwatch", "alarm:*"),
    "RdsEvents": ("events.rds.amazonaws.com", "rds", "*"),
    "EventBridgeRules": ("events.amazonaws.com", "events", "rule/*"),
}
# Deliberately plain: one '@', a dotted domain with a 2+ letter TLD, no spaces or quotes.
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$"
)


@dataclass(frozen=True)
class MonitoringSettings:
    """[monitoring]: who is told, and when each alarm fires (each tier sets its own log retention)."""

    #: E-mail addresses subscribed to the alarm topic (each must confirm the subscription mail).
    alarm_emails: tuple[str, ...] = setting(
        (),
        allowed=(
            "e-mail addresses such as 'oncall@example.com' subscribed to the stage's alarm topic"
            " (at least one in production)"
        ),
    )
    #: Seconds per evaluated period, and how many consecutive breaching periods fire an alarm.
    period_seconds: Literal[60, 300] = setting(300, allowed="60 or 300: the period each alarm evaluates")
    evaluation_periods: int = setting(3, allowed="1 to 24 consecutive breaching periods before an alarm fires")
    #: ALB: 5xx responses (from the ALB itself, and from the targets) per period.
    #: ALB: 5xx responses as a percentage of requests (ALB-made and target-made, each on its own),
    #: counted only in periods with at least the minimum number of requests (a quiet night's single
    #: error is no outage).
    alb_5xx_percent: float = setting(
        1.0, allowed="% of requests answered 5xx (by the ALB, or by the targets) that alarms, 0.01 to 100"
    )
    alb_5xx_minimum_requests: int = setting(
        50, allowed="requests per period below which the 5xx rate is not judged, 1 to 10000000"
    )
    #: ALB: 4xx responses (ALB + targets) per period that count as a surge.
    alb_4xx_count: int = setting(
        500,
        allowed=(
            "ALB + target 4xx responses per period that alarm as a surge (scans, credential stuffing), 1 to 10000000"
        ),
    )
    #: ALB: target response time percentile and its limit in seconds.
    target_response_time_statistic: Literal["p95", "p99"] = setting(
        "p99", allowed=("'p95' or 'p99': the percentile of target response time alarmed on")
    )
    target_response_time_seconds: float = setting(
        1.5, allowed=("target response time at that percentile that alarms, 0.05 to 60 seconds")
    )
    #: ALB: unhealthy targets.
    unhealthy_hosts: int = setting(1, allowed="unhealthy targets that alarm, 1 to 100")
    #: WAF: blocked requests per period that count as a spike.
    waf_blocked_requests: int = setting(
        1000, allowed=("WAF-blocked requests per period that alarm as a spike, 1 to 10000000")
    )
    #: App servers: average CPU %.
    app_cpu_percent: float = setting(80.0, allowed="average app-server CPU % that alarms, 1 to 100")
    #: App: ERROR/FATAL lines in the application's log per period above which it fires (0: any).
    app_errors: int = setting(
        10, allowed=("application ERROR/FATAL log lines per period above which it alarms, 0 (any) to 1000000")
    )
    #: Database (every instance): CPU %, free storage (GiB), connections, freeable memory (MiB).
    db_cpu_percent: float = setting(80.0, allowed="database CPU % that alarms, 1 to 100")
    db_free_storage_gib: float = setting(5.0, allowed="free database storage (GiB) below which it alarms, 0.5 to 10000")
    db_connections: int = setting(200, allowed="database connections that alarm, 1 to 100000")
    db_freeable_memory_mib: int = setting(
        256, allowed=("freeable database memory (MiB) below which it alarms, 16 to 1000000")
    )
    #: Database read replicas: lag in seconds.
    db_replica_lag_seconds: int = setting(60, allowed="read-replica lag (seconds) that alarms, 1 to 86400")
    #: Cache (every member): engine CPU %, memory % of maxmemory, evictions per period, replica lag (s).
    cache_engine_cpu_percent: float = setting(75.0, allowed="cache engine-thread CPU % that alarms, 1 to 100")
    #: A warm allkeys-lru cache sits near 100 % of memory by design; what matters is the memory that counts
    #: for eviction (without overhead and buffers) and the evictions themselves.
    cache_memory_for_eviction_percent: float = setting(
        95.0, allowed="cache memory counted for eviction (% of maxmemory) that alarms, 1 to 100"
    )
    cache_evictions: int = setting(100, allowed="keys evicted per period that alarm, 1 to 100000000")
    cache_replication_lag_seconds: float = setting(30.0, allowed="cache replica lag (seconds) that alarms, 0.1 to 3600")
    #: NAT gateways: port-allocation errors per period above which it fires (0: any error).
    nat_port_allocation_errors: int = setting(
        0, allowed=("NAT port-allocation errors per period above which it alarms, 0 (any error) to 100000")
    )

    def check(self, problems: SectionProblems, region: str) -> None:
        for index, address in enumerate(self.alarm_emails):
            if not EMAIL.match(address):
                problems.add(
                    f"alarm_emails[{index}]",
                    address,
                    "not an e-mail address",
                    "an address such as 'oncall@example.com'",
                )
        if len(set(a.lower() for a in self.alarm_emails)) != len(self.alarm_emails):
            problems.add("alarm_emails", list(self.alarm_emails), "an address is listed twice", "distinct addresses")
        ranges = {
            "evaluation_periods": (1, 24),
            "alb_5xx_percent": (0.01, 100),
            "alb_5xx_minimum_requests": (1, 10_000_000),
            "alb_4xx_count": (1, 10_000_000),
            "target_response_time_seconds": (0.05, 60),
            "unhealthy_hosts": (1, 100),
            "waf_blocked_requests": (1, 10_000_000),
            "app_cpu_percent": (1, 100),
            "app_errors": (0, 1_000_000),
            "db_cpu_percent": (1, 100),
            "db_free_storage_gib": (0.5, 10_000),
            "db_connections": (1, 100_000),
            "db_freeable_memory_mib": (16, 1_000_000),
            "db_replica_lag_seconds": (1, 86_400),
            "cache_engine_cpu_percent": (1, 100),
            "cache_memory_for_eviction_percent": (1, 100),
            "cache_evictions": (1, 100_000_000),
            "cache_replication_lag_seconds": (0.1, 3600),
            "nat_port_allocation_errors": (0, 100_000),
        }
        for name, (low, high) in ranges.items():
            check_range(problems, name, getattr(self, name), low, high)


class EventSource(Protocol):
    """A tier that publishes its events to a topic of its own (the cache)."""

    @property
    def node(self) -> Node: ...

    @property
    def event_topic_arn(self) -> str: ...


class StageAlerting(Construct):
    """The stage's alarm topic (KMS-encrypted, e-mail subscribers) and, in prod, the log KMS key."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: MonitoringSettings,
        *,
        name: str,
        region: str,
        account: AwsAccount,
        encrypt_logs: bool,
    ) -> None:
        """``name``: prefix of every resource name of the stage; ``encrypt_logs``: encrypt the stage's log
        groups with a customer-managed key (prod), else CloudWatch Logs' own encryption."""
        super().__init__(scope, id_)
        partition, account_id = account.partition, account.account_id

        # Each publishing service, only for its own resources of this account and region (confused deputy).
        publishers = {
            label: {
                "Principal": {"Service": service},
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": account.arn(arn_service, resource, region)},
                },
            }
            for label, (service, arn_service, resource) in PUBLISHERS.items()
        }
        # SNS encrypts with a customer key so that the publishing services can be granted its use
        # (the AWS-managed alias/aws/sns key cannot be shared with CloudWatch or RDS).
        self.topic_key = customer_managed_key(
            self,
            "alarm-topic-key",
            account,
            f"Encrypts the {name} alarm topic",
            alias=f"{name}-alarms",
            statements=[
                {
                    "Sid": f"{label}UseKey",
                    "Effect": "Allow",
                    **publisher,
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                }
                for label, publisher in publishers.items()
                if label != "EventBridgeRules"  # its documented statement carries no condition
            ]
            + [eventbridge_uses_topic_key()],
        )

        self.topic = SnsTopic(
            self,
            "alarm-topic",
            name=f"{name}-alarms",
            display_name=f"{name} alarms",
            kms_master_key_id=self.topic_key.arn,
            tags={},
        )
        SnsTopicPolicy(
            self,
            "alarm-topic-policy",
            arn=self.topic.arn,
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
                        "sns:Publish",
                    ],
                    "Resource": self.topic.arn,
                },
                *[
                    {
                        "Sid": f"{label}Publish",
                        "Effect": "Allow",
                        **publisher,
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                    }
                    for label, publisher in publishers.items()
                ],
                deny_insecure_transport("sns:Publish", self.topic.arn),
            ),
        )
        self.settings = settings
        self.subscriptions = [
            SnsTopicSubscription(
                self, f"alarm-email-{index}", topic_arn=self.topic.arn, protocol="email", endpoint=address
            )
            for index, address in enumerate(settings.alarm_emails)
        ]

        #: Where every alarm and event notification of the stage goes.
        self.alarm_topic_arn: str = self.topic.arn
        self.alarm_topic_name: str = self.topic.name
        #: KMS key for every log group of the stage, or None (CloudWatch's own encryption).
        self.log_kms_key_arn: str | None = None
        if encrypt_logs:
            log_group_arns = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
            self.log_key = customer_managed_key(
                self,
                "log-key",
                account,
                f"Encrypts the {name} CloudWatch log groups",
                alias=f"{name}-logs",
                statements=[
                    # Only CloudWatch Logs of this region, and only for this account's log groups.
                    {
                        "Sid": "CloudWatchLogsUseKey",
                        "Effect": "Allow",
                        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                        "Action": [
                            "kms:Encrypt*",
                            "kms:Decrypt*",
                            "kms:ReEncrypt*",
                            "kms:GenerateDataKey*",
                            "kms:Describe*",
                        ],
                        "Resource": "*",
                        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}},
                    }
                ],
            )
            self.log_kms_key_arn = self.log_key.arn

    def subscribe_to(self, source: EventSource) -> None:
        """The stage's alarm subscribers on a tier's own event topic too (one a service needs of its own,
        like ElastiCache's, which may not be encrypted)."""
        for index, address in enumerate(self.settings.alarm_emails):
            SnsTopicSubscription(
                self,
                f"{source.node.id}-events-email-{index}",
                topic_arn=source.event_topic_arn,
                protocol="email",
                endpoint=address,
            )


# -- what the alarms read of each tier -------------------------------------------------------------


class MonitoredNetwork(Protocol):
    @property
    def nat_gateway_ids(self) -> Sequence[str]: ...


class MonitoredLoadBalancer(Protocol):
    @property
    def alb_arn_suffix(self) -> str: ...

    @property
    def target_group_arn_suffix(self) -> str: ...

    #: The web ACL's CloudWatch metric name (the ``WebACL`` dimension), None without a WAF.
    @property
    def web_acl_metric_name(self) -> str | None: ...


class MonitoredFleet(Protocol):
    @property
    def autoscaling_group_name(self) -> str: ...

    #: Fewer healthy targets than this is an outage in the making.
    @property
    def min_size(self) -> int: ...

    #: The metric counting the application's error log lines (a metric filter on its log group).
    @property
    def error_metric_namespace(self) -> str: ...

    @property
    def error_metric_name(self) -> str: ...


class MonitoredDatabase(Protocol):
    @property
    def instance_identifier(self) -> str: ...

    @property
    def replica_identifiers(self) -> Sequence[str]: ...


class MonitoredCache(Protocol):
    #: One per node (ElastiCache publishes node metrics per member cluster).
    @property
    def member_cluster_ids(self) -> Sequence[str]: ...

    @property
    def engine_label(self) -> str: ...


class MonitoredAssets(Protocol):
    #: None without CloudFront (dashboard only: its metrics live in us-east-1).
    @property
    def distribution_id(self) -> str | None: ...


class MonitoredAccountSecurity(Protocol):
    """The account's security baseline as the dashboard shows it (its alarms notify its own topic)."""

    #: ``(title, metric lines, region)`` of each widget of the dashboard's security row.
    @property
    def dashboard_widgets(self) -> Sequence[tuple[str, list[list[Any]], str]]: ...


GIB = 1024**3
MIB = 1024**2


class PlatformAlarms(Construct):
    """Alarms with actions on every tier present, and the stage's golden-signals dashboard."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: MonitoringSettings,
        context: StageContext,
        *,
        network: MonitoredNetwork | None = None,
        load_balancer: MonitoredLoadBalancer | None = None,
        app_servers: MonitoredFleet | None = None,
        database: MonitoredDatabase | None = None,
        cache: MonitoredCache | None = None,
        static_assets: MonitoredAssets | None = None,
        security: MonitoredAccountSecurity | None = None,
    ) -> None:
        """Alarms for each tier given; a tier passed as None (absent) gets none. ``security``: the stage's
        account baseline, a row of its own at the bottom of the dashboard."""
        super().__init__(scope, id_)
        self.settings = settings
        self.context = context
        self.alarms: list[CloudwatchMetricAlarm] = []
        #: Alarm names by tier, e.g. ``{"database": [...], ...}``.
        self.alarm_names: dict[str, list[str]] = {}
        self._widgets: list[dict[str, Any]] = []
        #: Indexes of widgets that start a new dashboard row.
        self._row_starts: set[int] = set()
        t = settings
        nat_gateway_ids = list(network.nat_gateway_ids) if network is not None else []

        for index, nat_id in enumerate(nat_gateway_ids, start=1):
            self._alarm(
                "network",
                f"nat-{index}-port-allocation-errors",
                f"NAT gateway {index} failed to allocate source ports: connections to the internet drop",
                "AWS/NATGateway",
                "ErrorPortAllocation",
                {"NatGatewayId": nat_id},
                "Sum",
                "GreaterThanThreshold",
                t.nat_port_allocation_errors,
                missing="notBreaching",
            )
        if nat_gateway_ids:
            self._widget(
                "NAT gateways: port-allocation errors, active connections",
                [
                    *[
                        ["AWS/NATGateway", "ErrorPortAllocation", "NatGatewayId", n, {"stat": "Sum"}]
                        for n in nat_gateway_ids
                    ],
                    *[
                        ["AWS/NATGateway", "ActiveConnectionCount", "NatGatewayId", n, {"stat": "Maximum"}]
                        for n in nat_gateway_ids
                    ],
                ],
            )

        if load_balancer is not None:
            self._load_balancer_alarms(
                load_balancer.alb_arn_suffix,
                load_balancer.target_group_arn_suffix,
                app_servers.min_size if app_servers is not None else 0,
            )
        web_acl = load_balancer.web_acl_metric_name if load_balancer is not None else None
        if web_acl:
            waf = {"WebACL": web_acl, "Region": context.region, "Rule": "ALL"}
            self._alarm(
                "security",
                "waf-blocked-requests-spike",
                "WAF is blocking an unusual number of requests: an attack, or a rule blocking real users",
                "AWS/WAFV2",
                "BlockedRequests",
                waf,
                "Sum",
                "GreaterThanThreshold",
                t.waf_blocked_requests,
                missing="notBreaching",
            )
            self._widget(
                "WAF: allowed and blocked requests",
                [
                    ["AWS/WAFV2", metric, "WebACL", web_acl, "Region", context.region, "Rule", "ALL", {"stat": "Sum"}]
                    for metric in ("AllowedRequests", "BlockedRequests")
                ],
            )

        if app_servers is not None:
            asg = {"AutoScalingGroupName": app_servers.autoscaling_group_name}
            self._alarm(
                "app",
                "app-cpu-high",
                "App servers' average CPU is high: scaling is not keeping up",
                "AWS/EC2",
                "CPUUtilization",
                asg,
                "Average",
                "GreaterThanThreshold",
                t.app_cpu_percent,
            )
            self._app_error_alarm(app_servers)
            self._widget(
                "App servers: CPU and network",
                [
                    [
                        "AWS/EC2",
                        "CPUUtilization",
                        "AutoScalingGroupName",
                        app_servers.autoscaling_group_name,
                        {"stat": "Average"},
                    ],
                    [
                        "AWS/EC2",
                        "NetworkOut",
                        "AutoScalingGroupName",
                        app_servers.autoscaling_group_name,
                        {"stat": "Sum", "yAxis": "right"},
                    ],
                ],
            )

        if database is not None:
            instances = [("primary", database.instance_identifier)] + [
                (f"replica-{index}", identifier)
                for index, identifier in enumerate(database.replica_identifiers, start=1)
            ]
            for label, identifier in instances:
                self._database_alarms(label, identifier, is_replica=label != "primary")

        members = list(cache.member_cluster_ids) if cache is not None else []
        replicated = len(members) > 1
        for index, member in enumerate(members, start=1):
            self._cache_alarms(f"node-{index}", member, replicated, cache.engine_label if cache else "")
        if members:
            for title, metric, stat in (
                ("Cache: engine CPU %", "EngineCPUUtilization", "Average"),
                (
                    "Cache: memory for eviction % and evictions",
                    "DatabaseMemoryUsageCountedForEvictPercentage",
                    "Maximum",
                ),
                ("Cache: hit rate", "CacheHitRate", "Average"),
                ("Cache: current connections", "CurrConnections", "Maximum"),
            ):
                lines = [["AWS/ElastiCache", metric, "CacheClusterId", m, {"stat": stat}] for m in members]
                if metric == "DatabaseMemoryUsageCountedForEvictPercentage":
                    lines += [
                        ["AWS/ElastiCache", "Evictions", "CacheClusterId", m, {"stat": "Sum", "yAxis": "right"}]
                        for m in members
                    ]
                self._widget(title, lines)

        distribution_id = static_assets.distribution_id if static_assets is not None else None
        if distribution_id:
            self._widget(
                "Static assets (CloudFront): requests and error rates",
                [
                    [
                        "AWS/CloudFront",
                        "Requests",
                        "DistributionId",
                        distribution_id,
                        "Region",
                        "Global",
                        {"stat": "Sum"},
                    ],
                    *[
                        [
                            "AWS/CloudFront",
                            metric,
                            "DistributionId",
                            distribution_id,
                            "Region",
                            "Global",
                            {"stat": "Average", "yAxis": "right"},
                        ]
                        for metric in ("4xxErrorRate", "5xxErrorRate")
                    ],
                ],
                region="us-east-1",
            )

        if security is not None:
            self._row_starts.add(len(self._widgets))
            for title, lines, region in security.dashboard_widgets:
                self._widget(title, lines, region=region)

        self.dashboard = CloudwatchDashboard(
            self, "dashboard", dashboard_name=context.name, dashboard_body=json.dumps({"widgets": self._laid_out()})
        )
        #: The dashboard's name.
        self.dashboard_name: str = context.name

    # -- tiers ------------------------------------------------------------------------------------

    def _load_balancer_alarms(self, alb: str, target_group: str | None, min_healthy: int) -> None:
        t = self.settings
        lb = {"LoadBalancer": alb}
        tg = {"LoadBalancer": alb, "TargetGroup": target_group} if target_group else lb
        requests = {"requests": "RequestCount"}
        minimum = t.alb_5xx_minimum_requests
        # RequestCount counts only requests the ALB gave a target, so the ALB's own 5xx (no healthy
        # target) are added to it; a period below the minimum counts as no error at all.
        self._alarm(
            "load_balancer",
            "alb-5xx-rate",
            "The load balancer itself answers 5xx (no healthy target, overload) to too many requests (%)",
            "AWS/ApplicationELB",
            None,
            lb,
            "Sum",
            "GreaterThanThreshold",
            t.alb_5xx_percent,
            missing="notBreaching",
            expression=(
                f"IF(FILL(requests, 0) + FILL(errors, 0) >= {minimum},"
                " 100 * FILL(errors, 0) / (FILL(requests, 0) + FILL(errors, 0)), 0)",
                {**requests, "errors": "HTTPCode_ELB_5XX_Count"},
            ),
        )
        self._alarm(
            "load_balancer",
            "alb-target-5xx-rate",
            "The app servers answer 5xx to too many requests (%)",
            "AWS/ApplicationELB",
            None,
            lb,
            "Sum",
            "GreaterThanThreshold",
            t.alb_5xx_percent,
            missing="notBreaching",
            expression=(
                f"IF(FILL(requests, 0) >= {minimum}, 100 * FILL(errors, 0) / FILL(requests, 0), 0)",
                {**requests, "errors": "HTTPCode_Target_5XX_Count"},
            ),
        )
        self._alarm(
            "load_balancer",
            f"alb-target-response-time-{t.target_response_time_statistic}",
            f"Target response time at {t.target_response_time_statistic} is slow",
            "AWS/ApplicationELB",
            "TargetResponseTime",
            tg,
            t.target_response_time_statistic,
            "GreaterThanThreshold",
            t.target_response_time_seconds,
            missing="notBreaching",
        )
        if target_group:
            self._alarm(
                "load_balancer",
                "alb-unhealthy-hosts",
                "App servers are failing the health check",
                "AWS/ApplicationELB",
                "UnHealthyHostCount",
                tg,
                "Maximum",
                "GreaterThanOrEqualToThreshold",
                t.unhealthy_hosts,
            )
        if target_group and min_healthy:
            # Fewer healthy targets than the fleet's floor: instances died faster than they came back.
            # No data at all (no health checks reported) is as bad as none healthy.
            self._alarm(
                "load_balancer",
                "alb-healthy-hosts-below-minimum",
                f"Fewer than {min_healthy} app servers pass the health check (the fleet's minimum)",
                "AWS/ApplicationELB",
                "HealthyHostCount",
                tg,
                "Minimum",
                "LessThanThreshold",
                min_healthy,
                missing="breaching",
            )
        # Security: a surge of 4xx (ALB + targets) is what scans and credential stuffing look like.
        self._alarm(
            "security",
            "alb-4xx-surge",
            "A surge of 4xx responses: scanning, credential stuffing, or a broken client release",
            "AWS/ApplicationELB",
            None,
            lb,
            "Sum",
            "GreaterThanThreshold",
            t.alb_4xx_count,
            missing="notBreaching",
            expression=(
                "FILL(elb4xx, 0) + FILL(target4xx, 0)",
                {"elb4xx": "HTTPCode_ELB_4XX_Count", "target4xx": "HTTPCode_Target_4XX_Count"},
            ),
        )
        self._widget(
            "Load balancer: requests and errors",
            [
                ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", alb, {"stat": "Sum"}],
                *[
                    ["AWS/ApplicationELB", metric, "LoadBalancer", alb, {"stat": "Sum", "yAxis": "right"}]
                    for metric in (
                        "HTTPCode_ELB_5XX_Count",
                        "HTTPCode_Target_5XX_Count",
                        "HTTPCode_ELB_4XX_Count",
                        "HTTPCode_Target_4XX_Count",
                    )
                ],
            ],
        )
        self._widget(
            "Load balancer: target response time",
            [
                ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", alb, {"stat": stat}]
                for stat in ("p50", "p95", "p99")
            ],
        )
        if target_group:
            self._widget(
                "Load balancer: healthy and unhealthy targets",
                [
                    [
                        "AWS/ApplicationELB",
                        metric,
                        "TargetGroup",
                        target_group,
                        "LoadBalancer",
                        alb,
                        {"stat": "Maximum"},
                    ]
                    for metric in ("HealthyHostCount", "UnHealthyHostCount")
                ],
            )

    def _app_error_alarm(self, fleet: MonitoredFleet) -> None:
        self._alarm(
            "app",
            "app-errors",
            "The application is logging errors (ERROR or FATAL lines in its log)",
            fleet.error_metric_namespace,
            fleet.error_metric_name,
            {},
            "Sum",
            "GreaterThanThreshold",
            self.settings.app_errors,
            missing="notBreaching",
        )

    def _database_alarms(self, label: str, identifier: str, is_replica: bool) -> None:
        t = self.settings
        db = {"DBInstanceIdentifier": identifier}
        self._alarm(
            "database",
            f"db-{label}-cpu-high",
            f"Database {label}: CPU is high",
            "AWS/RDS",
            "CPUUtilization",
            db,
            "Average",
            "GreaterThanThreshold",
            t.db_cpu_percent,
        )
        self._alarm(
            "database",
            f"db-{label}-free-storage-low",
            f"Database {label}: free storage is low (autoscaling at its maximum?)",
            "AWS/RDS",
            "FreeStorageSpace",
            db,
            "Minimum",
            "LessThanThreshold",
            t.db_free_storage_gib * GIB,
        )
        self._alarm(
            "database",
            f"db-{label}-connections-high",
            f"Database {label}: too many connections",
            "AWS/RDS",
            "DatabaseConnections",
            db,
            "Maximum",
            "GreaterThanThreshold",
            t.db_connections,
        )
        self._alarm(
            "database",
            f"db-{label}-freeable-memory-low",
            f"Database {label}: freeable memory is low",
            "AWS/RDS",
            "FreeableMemory",
            db,
            "Minimum",
            "LessThanThreshold",
            t.db_freeable_memory_mib * MIB,
        )
        if is_replica:
            self._alarm(
                "database",
                f"db-{label}-replica-lag",
                f"Database {label}: replica lags behind the primary",
                "AWS/RDS",
                "ReplicaLag",
                db,
                "Maximum",
                "GreaterThanThreshold",
                t.db_replica_lag_seconds,
            )

        def line(metric: str, stat: str, axis: str = "left") -> list[Any]:
            return ["AWS/RDS", metric, "DBInstanceIdentifier", identifier, {"stat": stat, "yAxis": axis}]

        self._widget(
            f"Database {label}: CPU, connections",
            [line("CPUUtilization", "Average"), line("DatabaseConnections", "Maximum", "right")],
        )
        self._widget(
            f"Database {label}: latency, free storage and memory" + (", replica lag" if is_replica else ""),
            [
                line("ReadLatency", "Average"),
                line("WriteLatency", "Average"),
                line("FreeStorageSpace", "Minimum", "right"),
                line("FreeableMemory", "Minimum", "right"),
                *([line("ReplicaLag", "Maximum")] if is_replica else []),
            ],
        )

    def _cache_alarms(self, label: str, member: str, replicated: bool, engine: str) -> None:
        t = self.settings
        node = {"CacheClusterId": member}
        self._alarm(
            "cache",
            f"cache-{label}-engine-cpu-high",
            f"Cache {label}: the {engine} engine thread is busy",
            "AWS/ElastiCache",
            "EngineCPUUtilization",
            node,
            "Average",
            "GreaterThanThreshold",
            t.cache_engine_cpu_percent,
        )
        self._alarm(
            "cache",
            f"cache-{label}-memory-for-eviction-high",
            f"Cache {label}: the memory that counts for eviction is nearly full (evictions follow)",
            "AWS/ElastiCache",
            "DatabaseMemoryUsageCountedForEvictPercentage",
            node,
            "Maximum",
            "GreaterThanThreshold",
            t.cache_memory_for_eviction_percent,
        )
        self._alarm(
            "cache",
            f"cache-{label}-evictions",
            f"Cache {label}: keys are being evicted",
            "AWS/ElastiCache",
            "Evictions",
            node,
            "Sum",
            "GreaterThanThreshold",
            t.cache_evictions,
            missing="notBreaching",
        )
        if not replicated:
            return  # a single node has no replica, so no lag to watch
        # Only a replica reports ReplicationLag, and which member is the replica changes on failover.
        self._alarm(
            "cache",
            f"cache-{label}-replication-lag",
            f"Cache {label}: the replica lags behind the primary",
            "AWS/ElastiCache",
            "ReplicationLag",
            node,
            "Maximum",
            "GreaterThanThreshold",
            t.cache_replication_lag_seconds,
            missing="notBreaching",
        )

    # -- helpers ----------------------------------------------------------------------------------

    def _alarm(
        self,
        tier: str,
        suffix: str,
        description: str,
        namespace: str,
        metric: str | None,
        dimensions: dict[str, str],
        statistic: str,
        comparison: str,
        threshold: float,
        *,
        missing: str = "missing",
        expression: tuple[str, dict[str, str]] | None = None,
    ) -> None:
        context, t = self.context, self.settings
        percentile = statistic.startswith("p")
        common: dict[str, Any] = dict(
            alarm_name=f"{context.name}-{suffix}",
            alarm_description=description,
            comparison_operator=comparison,
            threshold=threshold,
            evaluation_periods=t.evaluation_periods,
            datapoints_to_alarm=t.evaluation_periods,
            treat_missing_data=missing,
            actions_enabled=True,
            alarm_actions=[context.alarm_topic_arn],
            ok_actions=[context.alarm_topic_arn],
            tags={**context.tags, "tier": tier},
        )
        if expression is not None:
            formula, metrics = expression
            queries = [
                CloudwatchMetricAlarmMetricQuery(
                    id=query_id,
                    return_data=False,
                    metric=CloudwatchMetricAlarmMetricQueryMetric(
                        namespace=namespace,
                        metric_name=name,
                        stat=statistic,
                        period=t.period_seconds,
                        dimensions=dimensions,
                    ),
                )
                for query_id, name in metrics.items()
            ]
            queries.append(
                CloudwatchMetricAlarmMetricQuery(id="total", expression=formula, label=description, return_data=True)
            )
            alarm = CloudwatchMetricAlarm(self, suffix, metric_query=queries, **common)
        else:
            alarm = CloudwatchMetricAlarm(
                self,
                suffix,
                namespace=namespace,
                metric_name=metric,
                dimensions=dimensions,
                period=t.period_seconds,
                statistic=None if percentile else statistic,
                extended_statistic=statistic if percentile else None,
                **common,
            )
        self.alarms.append(alarm)
        self.alarm_names.setdefault(tier, []).append(f"{context.name}-{suffix}")

    def _widget(self, title: str, metrics: list[list[Any]], region: str | None = None) -> None:
        self._widgets.append(
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region or self.context.region,
                    "view": "timeSeries",
                    "stacked": False,
                    "period": self.settings.period_seconds,
                    "metrics": metrics,
                },
            }
        )

    def _laid_out(self) -> list[dict[str, Any]]:
        """Two widgets per row, in the order they were added (network, ALB, WAF, app, database, cache, CDN),
        then the account's security row."""
        laid_out, x, y = [], 0, 0
        for index, widget in enumerate(self._widgets):
            if index in self._row_starts and x:
                x, y = 0, y + 6
            laid_out.append({**widget, "x": x, "y": y})
            x, y = (x + 12, y) if x == 0 else (0, y + 6)
        return laid_out
