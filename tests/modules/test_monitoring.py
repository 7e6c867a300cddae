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


def topic(stack) -> tuple[str, dict]:
    [(name, found)] = stack.resources("aws_sns_topic").items()
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


def test_topic_key_lets_only_the_publishing_services_of_this_account_use_it(stage_stack):
    _, sns = topic(stage_stack)
    statements = json.loads(key_named(stage_stack, sns["kms_master_key_id"])["policy"])["Statement"]
    [services] = [s for s in statements if "Service" in s["Principal"]]
    assert "cloudwatch.amazonaws.com" in services["Principal"]["Service"]
    assert set(services["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert "aws:SourceAccount" in services["Condition"]["StringEquals"]


def test_topic_policy_denies_publishing_without_tls(stage_stack):
    [policy] = stage_stack.resources("aws_sns_topic_policy").values()
    [deny] = [s for s in json.loads(policy["policy"])["Statement"] if s["Effect"] == "Deny"]
    assert deny["Action"] == "sns:Publish" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_email_subscribers_come_from_the_stage_file(stage_stack):
    expected = load_stage(stage_stack.stage).monitoring.alarm_emails
    subscriptions = stage_stack.resources("aws_sns_topic_subscription").values()
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(expected)
    topic_name, _ = topic(stage_stack)
    assert all(
        s["protocol"] == "email" and refers_to(s["topic_arn"], "aws_sns_topic", topic_name) for s in subscriptions
    )


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
    key_name, _ = log_key(prod)
    for name, group in prod.resources("aws_cloudwatch_log_group").items():
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
    by_metric = {a["metric_name"]: a for a in alarms_of_tier(stage_stack, "load_balancer")}
    assert {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "UnHealthyHostCount"} <= set(
        by_metric
    )
    latency = by_metric["TargetResponseTime"]
    assert latency["extended_statistic"] == monitoring.target_response_time_statistic
    assert latency["threshold"] == monitoring.target_response_time_seconds
    [(alb_name, _)] = stage_stack.resources("aws_lb").items()
    assert all(refers_to(a["dimensions"]["LoadBalancer"], "aws_lb", alb_name) for a in by_metric.values())


def test_app_cpu_alarm_watches_the_auto_scaling_group(stage_stack):
    [cpu] = alarms_of_tier(stage_stack, "app")
    [(asg_name, _)] = stage_stack.resources("aws_autoscaling_group").items()
    assert cpu["metric_name"] == "CPUUtilization"
    assert refers_to(cpu["dimensions"]["AutoScalingGroupName"], "aws_autoscaling_group", asg_name)
    assert cpu["threshold"] == load_stage(stage_stack.stage).monitoring.app_cpu_percent


def test_security_alarms_watch_4xx_surges_and_waf_blocks(stage_stack):
    security = alarms_of_tier(stage_stack, "security")
    [surge] = [a for a in security if "4xx" in a["alarm_name"]]
    metrics = {q["metric"]["metric_name"] for q in surge["metric_query"] if "metric" in q}
    assert metrics == {"HTTPCode_ELB_4XX_Count", "HTTPCode_Target_4XX_Count"}
    assert [q["id"] for q in surge["metric_query"] if q["return_data"]] == ["total"]
    waf = [a for a in security if a.get("namespace") == "AWS/WAFV2"]
    web_acls = stage_stack.resources("aws_wafv2_web_acl")
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
    expected = {"EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions"}
    if len(members) > 1:
        expected.add("ReplicationLag")
    for member in members:
        assert {a["metric_name"] for a in cache if a["dimensions"]["CacheClusterId"] == member} == expected


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
        assert metrics == {"EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions", "ReplicationLag"}


def test_a_single_cache_node_gets_no_replication_lag_alarm():
    single = SimpleNamespace(replication_group_id="t-cache", member_cluster_ids=["t-cache-001"])
    found = synth_alarms(cache=single)["aws_cloudwatch_metric_alarm"].values()
    assert "ReplicationLag" not in {a["metric_name"] for a in found} and len(found) == 3


def test_absent_tiers_get_no_alarms():
    resources = synth_alarms()
    assert "aws_cloudwatch_metric_alarm" not in resources
    assert list(resources) == ["aws_cloudwatch_dashboard"]
