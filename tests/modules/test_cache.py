"""Cache tier, per stage: placement, encryption, IAM auth, failover, logs, access, discovery."""

from __future__ import annotations

import json

import pytest

from environments import load_stage
from modules.cache import BookingCache, CacheSettings
from tests.constructs import network_for, synth_construct
from tests.modules.test_database import app_security_group_name, covers
from tests.tf_json import SynthesizedStack, refers_to


def group(stack):
    return stack.only("aws_elasticache_replication_group")


def test_node_type_and_count_follow_the_stage(stage_stack):
    config = load_stage(stage_stack.stage).cache
    assert group(stage_stack)["node_type"] == config.node_type
    assert group(stage_stack)["num_cache_clusters"] == config.node_count


def test_prod_fails_over_automatically_across_azs(prod):
    assert group(prod)["automatic_failover_enabled"] is True and group(prod)["multi_az_enabled"] is True
    assert group(prod)["num_cache_clusters"] >= 2


def test_encrypted_at_rest_with_kms_and_in_transit(stage_stack):
    g = group(stage_stack)
    assert g["at_rest_encryption_enabled"] == "true" and "aws_kms_key" in g["kms_key_id"]
    assert g["transit_encryption_enabled"] is True and g["transit_encryption_mode"] == "required"


def test_cache_lives_in_the_private_data_subnets(stage_stack):
    subnet_group = stage_stack.only("aws_elasticache_subnet_group")
    data_subnets = {n for n, s in stage_stack.resources("aws_subnet").items() if s["tags"]["tier"] == "private-data"}
    assert {n for n in data_subnets if refers_to(subnet_group["subnet_ids"], "aws_subnet", n)} == data_subnets


def test_no_password_anywhere_app_user_authenticates_with_iam(stage_stack):
    users = stage_stack.resources("aws_elasticache_user")
    by_name = {u["user_name"]: u for u in users.values()}
    assert by_name["default"]["access_string"].startswith("off")
    app = next(u for name, u in by_name.items() if name != "default")
    assert app["authentication_mode"] == {"type": "iam"} and app["user_id"] == app["user_name"]
    assert not any("passwords" in u for u in users.values()) and "auth_token" not in group(stage_stack)
    assert group(stage_stack)["user_group_ids"]


def test_eviction_policy_suits_a_read_through_cache(stage_stack):
    parameters = stage_stack.only("aws_elasticache_parameter_group")["parameter"]
    assert {"name": "maxmemory-policy", "value": "allkeys-lru"} in parameters


def test_snapshot_retention_follows_the_stage(stage_stack):
    assert group(stage_stack)["snapshot_retention_limit"] == load_stage(stage_stack.stage).cache.snapshot_retention_days


def test_a_stage_keeping_snapshots_keeps_a_final_one(stage_stack):
    g, days = group(stage_stack), load_stage(stage_stack.stage).cache.snapshot_retention_days
    if days:
        assert g["final_snapshot_identifier"].startswith(g["replication_group_id"]) and g["snapshot_window"]
    else:
        assert "final_snapshot_identifier" not in g and "snapshot_window" not in g


def test_prod_keeps_snapshots_and_a_final_one(prod):
    assert group(prod)["snapshot_retention_limit"] >= 1 and group(prod)["final_snapshot_identifier"]


def test_slow_log_goes_to_a_log_group_with_retention(stage_stack):
    (delivery,) = group(stage_stack)["log_delivery_configuration"]
    assert delivery["log_type"] == "slow-log" and delivery["destination_type"] == "cloudwatch-logs"
    (log_group,) = [
        g
        for n, g in stage_stack.resources("aws_cloudwatch_log_group").items()
        if refers_to(delivery["destination"], "aws_cloudwatch_log_group", n)
    ]
    assert log_group["retention_in_days"] == load_stage(stage_stack.stage).cache.log_retention_days


def test_only_the_app_servers_reach_port_6379(stage_stack):
    (sg,) = [
        n
        for n in stage_stack.resources("aws_security_group")
        if refers_to(group(stage_stack)["security_group_ids"], "aws_security_group", n)
    ]
    (rule,) = [
        r
        for r in stage_stack.resources("aws_vpc_security_group_ingress_rule").values()
        if refers_to(r["security_group_id"], "aws_security_group", sg)
    ]
    assert (rule["from_port"], rule["to_port"]) == (6379, 6379) and "cidr_ipv4" not in rule
    assert "aws_security_group" in rule["referenced_security_group_id"]


def cache_security_group_name(stack):
    (name,) = [
        n
        for n in stack.resources("aws_security_group")
        if refers_to(group(stack)["security_group_ids"], "aws_security_group", n)
    ]
    return name


def test_no_other_rule_opens_the_redis_port(stage_stack):
    """Across the whole stack: whatever ingress covers 6379 is the cache's, from the app servers' group."""
    app_sg, cache_sg = app_security_group_name(stage_stack), cache_security_group_name(stage_stack)
    (rule,) = [r for r in stage_stack.resources("aws_vpc_security_group_ingress_rule").values() if covers(r, 6379)]
    assert refers_to(rule["security_group_id"], "aws_security_group", cache_sg)
    assert refers_to(rule["referenced_security_group_id"], "aws_security_group", app_sg)
    assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule) and rule["description"]


def test_app_servers_get_a_described_egress_rule_to_the_cache_only(stage_stack):
    app_sg, cache_sg = app_security_group_name(stage_stack), cache_security_group_name(stage_stack)
    (rule,) = [
        r
        for r in stage_stack.resources("aws_vpc_security_group_egress_rule").values()
        if refers_to(r.get("referenced_security_group_id", ""), "aws_security_group", cache_sg)
    ]
    assert refers_to(rule["security_group_id"], "aws_security_group", app_sg)
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 6379, 6379) and rule["description"]
    assert stage_stack.resources("aws_security_group")[cache_sg]["description"]
    assert not [
        r
        for r in stage_stack.resources("aws_vpc_security_group_egress_rule").values()
        if refers_to(r["security_group_id"], "aws_security_group", cache_sg)
    ]  # the cache dials out nowhere


def test_app_role_may_connect_and_read_only_cache_parameters(stage_stack):
    (policy,) = [
        p for p in stage_stack.resources("aws_iam_role_policy").values() if p["name"].endswith("connect-cache")
    ]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["ConnectWithIam"]["Action"] == "elasticache:Connect"
    assert all(r.endswith(("/cache", "/cache/*")) for r in statements["ReadConnectionParameters"]["Resource"])
    decrypt = statements["DecryptConnectionParameters"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"].startswith("ssm.")
    assert decrypt["Resource"] == group(stage_stack)["kms_key_id"]  # the cache's own key, nothing broader


def test_connection_parameters_are_encrypted_with_the_cache_key(stage_stack):
    parameters = [p for p in stage_stack.resources("aws_ssm_parameter").values() if "/cache/" in p["name"]]
    assert parameters and all(
        p["type"] == "SecureString" and p["key_id"] == group(stage_stack)["kms_key_id"] for p in parameters
    )


def test_endpoints_are_published_and_output(stage_stack):
    names = {
        p["name"].rsplit("/", 1)[1]
        for p in stage_stack.resources("aws_ssm_parameter").values()
        if "/cache/" in p["name"]
    }
    assert {"primary-endpoint", "reader-endpoint", "port", "user"} <= names
    assert "aws_elasticache_replication_group" in stage_stack.outputs()["cache_primary_endpoint"]["value"]


# --- the construct alone, for the attributes the monitoring tier relies on -------------------


def cache_alone(settings: CacheSettings) -> tuple[BookingCache, SynthesizedStack]:
    return synth_construct(
        lambda scope, stage: BookingCache(scope, "cache", settings, stage, network=network_for(scope, stage)), name="c"
    )


def test_member_cluster_ids_follow_elasticache_naming():
    cache, stack = cache_alone(CacheSettings(node_count=3))
    replication_group = stack.only("aws_elasticache_replication_group")
    assert replication_group["replication_group_id"] == "c-cache" and replication_group["num_cache_clusters"] == 3
    assert cache.member_cluster_ids == ["c-cache-001", "c-cache-002", "c-cache-003"]
    assert cache.port == 6379


def test_construct_refuses_failover_without_a_replica():
    with pytest.raises(ValueError, match="node_count = 1: automatic failover needs a replica to promote"):
        cache_alone(CacheSettings(node_count=1, automatic_failover=True))
