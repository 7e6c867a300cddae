"""Monitoring, per stage: the encrypted alarm topic, log groups, alarms with actions on every tier, the dashboard."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from environments import load_stage
from modules.monitoring import MonitoringSettings, PlatformAlarms
from modules.settings import LOG_RETENTION_DAYS
from tests.constructs import synth_construct
from tests.tf_json import refers_to


def topic(stack, suffix: str = "alarms") -> tuple[str, dict]:
    """The stage's SNS topic named ``<stage>-<suffix>``: ``alarms`` (KMS) or ``cache-events`` (ElastiCache's)."""
    [(name, found)] = [(n, t) for n, t in stack.resources("aws_sns_topic").items() if t["name"].endswith(f"-{suffix}")]
    return name, found


def key_named(stack, reference) -> dict:
    [key] = [k for n, k in stack.resources("aws_kms_key").items() if refers_to(reference, "aws_kms_key", n)]
    return key


def alarms(stack) -> dict[str, dict]:
    return stack.resources("aws_cloudwatch_metric_alarm")


def alarms_of_tier(stack, tier) -> list[dict]:
    return [a for a in alarms(stack).values() if a["tags"]["tier"] == tier]


def log_key(stack) -> tuple[str, dict] | None:
    found = [(n, k) for n, k in stack.resources("aws_kms_key").items() if "CloudWatch log groups" in k["description"]]
    return found[0] if found else None


# -- the alarm topic ------------------------------------------------------------------------------


def test_one_alarm_topic_per_stage_encrypted_with_a_rotated_key(stage_stack):
    _, sns = topic(stage_stack)
    key = key_named(stage_stack, sns["kms_master_key_id"])
    assert key["enable_key_rotation"] is True
    assert sns["name"] == f"{stage_stack.name}-alarms"
    assert {t["name"] for t in stage_stack.resources("aws_sns_topic").values()} == {
        f"{stage_stack.name}-alarms",
        f"{stage_stack.name}-cache-events",
    }


def test_topic_key_lets_only_the_publishing_services_of_this_account_use_it(stage_stack):
    """SNS Developer Guide, "Enable compatibility between event sources from AWS services and encrypted
    topics": the key policy grants each publishing service principal kms:GenerateDataKey* and kms:Decrypt,
    with aws:SourceAccount and aws:SourceArn against the confused deputy. The publishers are CloudWatch
    alarms (cloudwatch.amazonaws.com), RDS events (events.rds.amazonaws.com) and EventBridge rules
    (events.amazonaws.com: AWS Backup's failed jobs; AWS re:Post, "Why isn't my Amazon SNS topic receiving
    EventBridge notifications?": an encrypted topic's key must let EventBridge use it, and the topic policy
    let it publish); ElastiCache is not one of them: it cannot publish to an encrypted topic. EventBridge's
    statement is the one "Troubleshooting Amazon EventBridge" (Scenario 2) gives, without conditions: no
    page documents aws:SourceArn for this delivery, and a condition that does not hold drops every event."""
    _, sns = topic(stage_stack)
    statements = json.loads(key_named(stage_stack, sns["kms_master_key_id"])["policy"])["Statement"]
    services = {s["Principal"]["Service"]: s for s in statements if "Service" in s["Principal"]}
    assert set(services) == {"cloudwatch.amazonaws.com", "events.rds.amazonaws.com", "events.amazonaws.com"}
    account = "${data.aws_caller_identity.account.account_id}"
    for service, arn in (
        ("cloudwatch.amazonaws.com", ":cloudwatch:eu-west-1:"),
        ("events.rds.amazonaws.com", ":rds:eu-west-1:"),
    ):
        statement = services[service]
        assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
        assert arn + account + ":" in statement["Condition"]["ArnLike"]["aws:SourceArn"]
    eventbridge = services["events.amazonaws.com"]
    assert set(eventbridge["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert "Condition" not in eventbridge


def test_topic_policies_deny_publishing_without_tls(stage_stack):
    policies = stage_stack.resources("aws_sns_topic_policy").values()
    assert len(policies) == 2
    for policy in policies:
        [deny] = [s for s in json.loads(policy["policy"])["Statement"] if s["Effect"] == "Deny"]
        assert deny["Action"] == "sns:Publish" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cache_events_go_to_an_unencrypted_topic_elasticache_may_publish_to(stage_stack):
    """ElastiCache User Guide, "Event Notifications and Amazon SNS": "The Amazon SNS topic you are publishing
    to cannot be encrypted" (an encrypted one shows as inactive and loses the events) and "The Amazon SNS
    topic's access policy must use the aws:SourceOwner condition key" (with aws:SourceAccount ElastiCache
    cannot publish). So the replication group notifies a topic of its own, unencrypted, owner-scoped."""
    name, events = topic(stage_stack, "cache-events")
    assert "kms_master_key_id" not in events
    group = stage_stack.only("aws_elasticache_replication_group")
    assert refers_to(group["notification_topic_arn"], "aws_sns_topic", name)
    [policy] = [
        p for p in stage_stack.resources("aws_sns_topic_policy").values() if refers_to(p["arn"], "aws_sns_topic", name)
    ]
    [publish] = [
        s
        for s in json.loads(policy["policy"])["Statement"]
        if s.get("Action") == "sns:Publish" and s["Effect"] == "Allow"
    ]
    assert publish["Principal"] == {"Service": "elasticache.amazonaws.com"}
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceOwner": "${data.aws_caller_identity.account.account_id}"}
    }


def test_email_subscribers_hear_alarms_and_cache_events(stage_stack):
    expected = sorted(load_stage(stage_stack.stage).monitoring.alarm_emails)
    subscriptions = stage_stack.resources("aws_sns_topic_subscription").values()
    assert all(s["protocol"] == "email" for s in subscriptions)
    for suffix in ("alarms", "cache-events"):
        topic_name, _ = topic(stage_stack, suffix)
        on_topic = [s["endpoint"] for s in subscriptions if refers_to(s["topic_arn"], "aws_sns_topic", topic_name)]
        assert sorted(on_topic) == expected, suffix


def test_prod_has_at_least_one_subscriber(prod):
    assert prod.resources("aws_sns_topic_subscription")


# -- log groups -----------------------------------------------------------------------------------


def test_every_log_group_has_a_cloudwatch_retention(stage_stack):
    groups = stage_stack.resources("aws_cloudwatch_log_group")
    assert groups
    assert all(g["retention_in_days"] in LOG_RETENTION_DAYS for g in groups.values())


def test_every_prod_log_group_keeps_a_year_of_logs(prod):
    assert all(g["retention_in_days"] >= 365 for g in prod.resources("aws_cloudwatch_log_group").values())


def test_every_prod_log_group_is_encrypted_with_the_log_key(prod):
    """A log group can only use a key of its own region (CloudWatch Logs User Guide, "Encrypt log data in
    CloudWatch Logs using AWS KMS"): the assets WAF's group in us-east-1 has a key of its own there, for
    CloudWatch Logs of that region only."""
    key_name, _ = log_key(prod)
    for name, group in prod.resources("aws_cloudwatch_log_group").items():
        if group.get("provider") == "aws.edge":
            [(edge_key, key)] = [
                (n, k)
                for n, k in prod.resources("aws_kms_key").items()
                if refers_to(group["kms_key_id"], "aws_kms_key", n)
            ]
            assert key["provider"] == "aws.edge" and edge_key != key_name
            services = {s["Principal"].get("Service") for s in json.loads(key["policy"])["Statement"]}
            assert "logs.us-east-1.amazonaws.com" in services, name
        else:
            assert refers_to(group.get("kms_key_id"), "aws_kms_key", key_name), name


def test_log_key_is_for_cloudwatch_logs_of_this_region_and_account_only(prod):
    _, key = log_key(prod)
    assert key["enable_key_rotation"] is True
    [logs] = [s for s in json.loads(key["policy"])["Statement"] if "Service" in s["Principal"]]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert context.startswith("arn:") and ":logs:eu-west-1:" in context and context.endswith(":log-group:*")


@pytest.mark.parametrize("stage", ["dev", "staging"])
def test_outside_prod_there_is_no_log_key(stacks, stage):
    assert log_key(stacks[f"digital-booking-{stage}"]) is None


# -- alarms ---------------------------------------------------------------------------------------


def test_every_alarm_notifies_the_topic_when_it_fires_and_clears(stage_stack):
    topic_name, _ = topic(stage_stack)
    assert alarms(stage_stack)
    for name, alarm in alarms(stage_stack).items():
        assert alarm["actions_enabled"] is True, name
        for actions in ("alarm_actions", "ok_actions"):
            assert len(alarm[actions]) == 1 and refers_to(alarm[actions][0], "aws_sns_topic", topic_name), name


def test_alarm_names_are_unique_and_prefixed_with_the_stack(stage_stack):
    names = [a["alarm_name"] for a in alarms(stage_stack).values()]
    assert len(names) == len(set(names)) and all(n.startswith(f"{stage_stack.name}-") for n in names)


def test_each_tier_in_the_stack_has_alarms(stage_stack):
    tiers = {a["tags"]["tier"] for a in alarms(stage_stack).values()}
    assert tiers == {"network", "load_balancer", "app", "database", "cache", "security"}


def test_one_port_allocation_alarm_per_nat_gateway(stage_stack):
    nats = stage_stack.resources("aws_nat_gateway")
    nat_alarms = [a for a in alarms_of_tier(stage_stack, "network") if a["metric_name"] == "ErrorPortAllocation"]
    assert len(nat_alarms) == len(nats)
    watched = {n for a in nat_alarms for n in nats if refers_to(a["dimensions"]["NatGatewayId"], "aws_nat_gateway", n)}
    assert watched == set(nats)


def test_load_balancer_alarms_cover_5xx_latency_and_unhealthy_hosts(stage_stack):
    monitoring = load_stage(stage_stack.stage).monitoring
    by_metric = {a["metric_name"]: a for a in alarms_of_tier(stage_stack, "load_balancer") if "metric_name" in a}
    assert {"TargetResponseTime", "UnHealthyHostCount", "HealthyHostCount"} <= set(by_metric)
    latency = by_metric["TargetResponseTime"]
    assert latency["extended_statistic"] == monitoring.target_response_time_statistic == "p99"
    assert latency["threshold"] == monitoring.target_response_time_seconds
    [(alb_name, _)] = stage_stack.resources("aws_lb").items()
    assert all(refers_to(a["dimensions"]["LoadBalancer"], "aws_lb", alb_name) for a in by_metric.values())


def rate_alarm(stack, suffix):
    [alarm] = [a for a in alarms(stack).values() if a["alarm_name"].endswith(suffix)]
    queries = {q["id"]: q for q in alarm["metric_query"]}
    return alarm, queries


@pytest.mark.parametrize(
    "suffix, errors", [("alb-5xx-rate", "HTTPCode_ELB_5XX_Count"), ("alb-target-5xx-rate", "HTTPCode_Target_5XX_Count")]
)
def test_5xx_alarms_are_rates_over_a_minimum_of_requests(stage_stack, suffix, errors):
    """ "Create a CloudWatch alarm based on a metric math expression" (CloudWatch User Guide) and "CloudWatch
    metrics for your Application Load Balancer" (ELB User Guide): the 5xx counts and RequestCount are Sums
    reported only when non-zero (hence FILL), RequestCount counts only requests given a target (hence the
    ALB's own 5xx are added to it); one expression returns the percentage, 0 below the minimum."""
    monitoring = load_stage(stage_stack.stage).monitoring
    alarm, queries = rate_alarm(stack=stage_stack, suffix=suffix)
    assert {q["metric"]["metric_name"] for q in queries.values() if "metric" in q} == {"RequestCount", errors}
    assert all(q["metric"]["stat"] == "Sum" for q in queries.values() if "metric" in q)
    [result] = [q for q in queries.values() if q.get("return_data")]
    assert f">= {monitoring.alb_5xx_minimum_requests}" in result["expression"]
    assert "100 * FILL(errors, 0) /" in result["expression"]
    assert alarm["threshold"] == monitoring.alb_5xx_percent and alarm["treat_missing_data"] == "notBreaching"


def test_fewer_healthy_hosts_than_the_fleet_minimum_alarms(stage_stack):
    """ "CloudWatch metrics for your Application Load Balancer": HealthyHostCount is reported per target
    group when health checks are on; the Minimum below the Auto Scaling group's min_size means instances
    are failing faster than they are replaced. No data is treated as breaching (nothing healthy)."""
    [healthy] = [a for a in alarms_of_tier(stage_stack, "load_balancer") if a.get("metric_name") == "HealthyHostCount"]
    assert healthy["statistic"] == "Minimum" and healthy["comparison_operator"] == "LessThanThreshold"
    assert healthy["threshold"] == load_stage(stage_stack.stage).app_servers.min_size
    assert (
        set(healthy["dimensions"]) == {"LoadBalancer", "TargetGroup"} and healthy["treat_missing_data"] == "breaching"
    )
    [unhealthy] = [
        a for a in alarms_of_tier(stage_stack, "load_balancer") if a.get("metric_name") == "UnHealthyHostCount"
    ]
    assert unhealthy["comparison_operator"] == "GreaterThanOrEqualToThreshold" and unhealthy["threshold"] >= 1


def test_app_cpu_alarm_watches_the_auto_scaling_group(stage_stack):
    [cpu] = [a for a in alarms_of_tier(stage_stack, "app") if a["metric_name"] == "CPUUtilization"]
    [(asg_name, _)] = stage_stack.resources("aws_autoscaling_group").items()
    assert cpu["metric_name"] == "CPUUtilization"
    assert refers_to(cpu["dimensions"]["AutoScalingGroupName"], "aws_autoscaling_group", asg_name)
    assert cpu["threshold"] == load_stage(stage_stack.stage).monitoring.app_cpu_percent


def test_app_error_alarm_counts_what_the_app_log_metric_filter_counts(stage_stack):
    """The alarm reads the metric the metric filter publishes: same namespace and name, no dimensions
    (the filter publishes none), Sum per period. AWS page "Creating metrics from log events using
    filters" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MonitoringLogData.html): "If no
    logs are ingested during a one-minute period, then no value is reported": missing is not trouble."""
    [errors] = [a for a in alarms_of_tier(stage_stack, "app") if a["metric_name"] != "CPUUtilization"]
    [metric_filter] = stage_stack.resources("aws_cloudwatch_log_metric_filter").values()
    published = metric_filter["metric_transformation"]
    assert (errors["namespace"], errors["metric_name"]) == (published["namespace"], published["name"])
    assert not errors.get("dimensions") and "dimensions" not in published
    assert errors["statistic"] == "Sum" and errors["treat_missing_data"] == "notBreaching"
    assert errors["comparison_operator"] == "GreaterThanThreshold"
    assert errors["threshold"] == load_stage(stage_stack.stage).monitoring.app_errors


def test_security_alarms_watch_4xx_surges_and_waf_blocks(stage_stack):
    security = alarms_of_tier(stage_stack, "security")
    [surge] = [a for a in security if "4xx" in a["alarm_name"]]
    metrics = {q["metric"]["metric_name"] for q in surge["metric_query"] if "metric" in q}
    assert metrics == {"HTTPCode_ELB_4XX_Count", "HTTPCode_Target_4XX_Count"}
    assert [q["id"] for q in surge["metric_query"] if q["return_data"]] == ["total"]
    waf = [a for a in security if a.get("namespace") == "AWS/WAFV2"]
    # The ALB's (regional) web ACL; the assets CDN's publishes its metrics in us-east-1.
    web_acls = {n: a for n, a in stage_stack.resources("aws_wafv2_web_acl").items() if a["scope"] == "REGIONAL"}
    assert len(waf) == len(web_acls)
    for alarm in waf:
        [(acl_name, _)] = web_acls.items()
        # WAF publishes the web ACL's visibility metric name as the WebACL dimension, not its name.
        assert alarm["dimensions"]["WebACL"] == f"${{aws_wafv2_web_acl.{acl_name}.visibility_config[0].metric_name}}"
        assert alarm["dimensions"]["Rule"] == "ALL" and alarm["metric_name"] == "BlockedRequests"


def test_alarm_period_and_evaluation_follow_the_stage(stage_stack):
    monitoring = load_stage(stage_stack.stage).monitoring
    for alarm in alarms(stage_stack).values():
        periods = (
            [alarm["period"]]
            if "period" in alarm
            else [q["metric"]["period"] for q in alarm["metric_query"] if "metric" in q]
        )
        assert set(periods) == {monitoring.period_seconds}
        assert alarm["evaluation_periods"] == monitoring.evaluation_periods


def test_count_alarms_treat_missing_data_as_no_trouble(stage_stack):
    for alarm in alarms(stage_stack).values():
        if alarm.get("statistic") == "Sum":
            assert alarm["treat_missing_data"] == "notBreaching", alarm["alarm_name"]


def test_every_database_instance_has_its_alarms_and_replicas_a_lag_alarm(stage_stack):
    instances = stage_stack.resources("aws_db_instance")
    assert instances
    database = alarms_of_tier(stage_stack, "database")
    for name, instance in instances.items():
        metrics = {
            a["metric_name"]
            for a in database
            if refers_to(a["dimensions"]["DBInstanceIdentifier"], "aws_db_instance", name)
        }
        expected = {"CPUUtilization", "FreeStorageSpace", "DatabaseConnections", "FreeableMemory"}
        if instance.get("replicate_source_db"):
            expected.add("ReplicaLag")
        assert metrics == expected, name


def test_every_cache_member_has_its_alarms(stage_stack):
    [group] = stage_stack.resources("aws_elasticache_replication_group").values()
    members = [f"{group['replication_group_id']}-{n:03d}" for n in range(1, group["num_cache_clusters"] + 1)]
    cache = alarms_of_tier(stage_stack, "cache")
    assert {a["dimensions"]["CacheClusterId"] for a in cache} == set(members)
    expected = {"EngineCPUUtilization", "DatabaseMemoryUsageCountedForEvictPercentage", "Evictions"}
    if len(members) > 1:
        expected.add("ReplicationLag")
    for member in members:
        assert {a["metric_name"] for a in cache if a["dimensions"]["CacheClusterId"] == member} == expected


def test_cache_memory_alarms_count_what_eviction_counts_not_raw_use(stage_stack):
    """ "Metrics for Valkey and Redis OSS" (ElastiCache User Guide): DatabaseMemoryUsagePercentage is
    used_memory/maxmemory, which a warm allkeys-lru cache holds near 100 % by design; eviction starts from
    the memory counted for eviction, so that and the evictions are what alarm."""
    metrics = {a["metric_name"] for a in alarms_of_tier(stage_stack, "cache")}
    assert "DatabaseMemoryUsagePercentage" not in metrics
    assert {"DatabaseMemoryUsageCountedForEvictPercentage", "Evictions"} <= metrics


def test_database_and_cache_thresholds_follow_the_stage(stage_stack):
    monitoring = load_stage(stage_stack.stage).monitoring
    by_metric = {a["metric_name"]: a["threshold"] for a in alarms(stage_stack).values() if "metric_name" in a}
    assert by_metric["FreeStorageSpace"] == monitoring.db_free_storage_gib * 1024**3
    assert by_metric["DatabaseConnections"] == monitoring.db_connections
    assert by_metric["EngineCPUUtilization"] == monitoring.cache_engine_cpu_percent
    assert by_metric["Evictions"] == monitoring.cache_evictions


# -- dashboard ------------------------------------------------------------------------------------


def test_one_dashboard_per_stage_with_the_golden_signals_of_every_tier(stage_stack):
    dashboard = stage_stack.only("aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == stage_stack.name
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    metrics = {(line[0], line[1]) for w in widgets for line in w["properties"]["metrics"]}
    assert {
        ("AWS/ApplicationELB", "RequestCount"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
        ("AWS/ApplicationELB", "UnHealthyHostCount"),
        ("AWS/EC2", "CPUUtilization"),
        ("AWS/NATGateway", "ErrorPortAllocation"),
    } <= metrics
    if stage_stack.resources("aws_cloudfront_distribution"):
        assert ("AWS/CloudFront", "Requests") in metrics
    assert {
        ("AWS/RDS", "CPUUtilization"),
        ("AWS/RDS", "FreeStorageSpace"),
        ("AWS/ElastiCache", "EngineCPUUtilization"),
        ("AWS/ElastiCache", "Evictions"),
    } <= metrics


def test_dashboard_widgets_do_not_overlap(stage_stack):
    widgets = json.loads(stage_stack.only("aws_cloudwatch_dashboard")["dashboard_body"])["widgets"]
    assert len({(w["x"], w["y"]) for w in widgets}) == len(widgets)


# -- derivation from the tiers (the construct on its own, with stand-in tiers) --------------------


def synth_alarms(**tiers) -> dict:
    """PlatformAlarms alone, reading stand-in tiers (only the attributes its protocols name)."""
    settings = MonitoringSettings(db_free_storage_gib=2.0, db_freeable_memory_mib=128)
    _, stack = synth_construct(lambda scope, stage: PlatformAlarms(scope, "alarms", settings, stage, **tiers), name="t")
    return {t: r for t, r in stack.json["resource"].items()}


DATABASE = SimpleNamespace(
    instance_identifier="t-db",
    replica_identifiers=["t-db-replica-1", "t-db-replica-2"],
    engine="postgres",
    log_group_names=[],
)
CACHE = SimpleNamespace(
    replication_group_id="t-cache",
    member_cluster_ids=["t-cache-001", "t-cache-002"],
    slow_log_group_name="/t/cache/slow",
    engine_label="Valkey",
)


def test_every_database_instance_gets_cpu_storage_connections_memory_alarms():
    found = synth_alarms(database=DATABASE)["aws_cloudwatch_metric_alarm"].values()
    for identifier in ("t-db", "t-db-replica-1", "t-db-replica-2"):
        metrics = {a["metric_name"] for a in found if a["dimensions"] == {"DBInstanceIdentifier": identifier}}
        assert {"CPUUtilization", "FreeStorageSpace", "DatabaseConnections", "FreeableMemory"} <= metrics


def test_each_replica_and_only_replicas_get_a_lag_alarm():
    found = synth_alarms(database=DATABASE)["aws_cloudwatch_metric_alarm"].values()
    lagging = sorted(a["dimensions"]["DBInstanceIdentifier"] for a in found if a["metric_name"] == "ReplicaLag")
    assert lagging == ["t-db-replica-1", "t-db-replica-2"]


def test_database_thresholds_are_converted_to_bytes():
    found = synth_alarms(database=DATABASE)["aws_cloudwatch_metric_alarm"].values()
    storage = next(a for a in found if a["metric_name"] == "FreeStorageSpace")
    memory = next(a for a in found if a["metric_name"] == "FreeableMemory")
    assert storage["threshold"] == 2 * 1024**3 and storage["comparison_operator"] == "LessThanThreshold"
    assert memory["threshold"] == 128 * 1024**2


def test_every_cache_member_of_a_replicated_group_gets_cpu_memory_evictions_and_lag_alarms():
    found = synth_alarms(cache=CACHE)["aws_cloudwatch_metric_alarm"].values()
    for member in CACHE.member_cluster_ids:
        metrics = {a["metric_name"] for a in found if a["dimensions"] == {"CacheClusterId": member}}
        assert metrics == {
            "EngineCPUUtilization",
            "DatabaseMemoryUsageCountedForEvictPercentage",
            "Evictions",
            "ReplicationLag",
        }


def test_the_cache_alarms_name_the_engine_in_use():
    found = synth_alarms(cache=CACHE)["aws_cloudwatch_metric_alarm"].values()
    cpu = [a for a in found if a["metric_name"] == "EngineCPUUtilization"]
    assert cpu and all("the Valkey engine thread" in a["alarm_description"] for a in cpu)
    redis = SimpleNamespace(**{**vars(CACHE), "engine_label": "Redis OSS"})
    cpu = [a for a in synth_alarms(cache=redis)["aws_cloudwatch_metric_alarm"].values() if "CPU" in a["alarm_name"]]
    assert all("Redis OSS" in a["alarm_description"] for a in cpu)


def test_a_single_cache_node_gets_no_replication_lag_alarm():
    single = SimpleNamespace(replication_group_id="t-cache", member_cluster_ids=["t-cache-001"], engine_label="Valkey")
    found = synth_alarms(cache=single)["aws_cloudwatch_metric_alarm"].values()
    assert "ReplicationLag" not in {a["metric_name"] for a in found} and len(found) == 3


def test_the_fleet_gets_a_cpu_and_an_error_alarm_from_what_it_exposes():
    fleet = SimpleNamespace(autoscaling_group_name="t-app", error_metric_namespace="t/app", error_metric_name="Errs")
    found = synth_alarms(app_servers=fleet)["aws_cloudwatch_metric_alarm"].values()
    assert sorted((a["namespace"], a["metric_name"]) for a in found) == [
        ("AWS/EC2", "CPUUtilization"),
        ("t/app", "Errs"),
    ]
    [errors] = [a for a in found if a["namespace"] == "t/app"]
    assert errors["threshold"] == MonitoringSettings().app_errors


def test_absent_tiers_get_no_alarms():
    resources = synth_alarms()
    assert "aws_cloudwatch_metric_alarm" not in resources
    assert list(resources) == ["aws_cloudwatch_dashboard"]
