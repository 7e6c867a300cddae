"""[cache] settings: node counts, eviction policies and windows ElastiCache would refuse."""

from __future__ import annotations

from tests.environments.stage_edits import rejection


def test_cache_failover_with_one_node_is_rejected():
    message = rejection("staging", "cache", node_count=1)
    assert "environments/staging.toml: cache.node_count = 1: automatic failover needs a replica to promote" in message
    assert "allowed: 2 to 6 when automatic_failover is true" in message


def test_unknown_eviction_policy_is_rejected():
    message = rejection("dev", "cache", maxmemory_policy="noeviction")
    assert "cache.maxmemory_policy = 'noeviction': wrong type or value; allowed: 'allkeys-lru'" in message


def test_unknown_cache_key_is_reported_as_a_typo():
    assert "cache.node_cuont = 2: unknown key (a typo?)" in rejection("dev", "cache", node_cuont=2)


def test_cache_snapshot_window_shorter_than_an_hour_is_rejected():
    message = rejection("staging", "cache", snapshot_window="01:00-01:30")
    assert (
        "environments/staging.toml: cache.snapshot_window = '01:00-01:30': shorter than ElastiCache's minimum;"
        " allowed: a window of at least 60 minutes"
    ) in message
