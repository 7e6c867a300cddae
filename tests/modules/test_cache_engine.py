"""The cache engine: Valkey by default at a version ElastiCache supports, Redis OSS still selectable, and
what follows the engine (parameter group family, alarms, names) or stays the same (TLS, RBAC, IAM auth)."""

from __future__ import annotations

import re

import pytest

from environments import load_stage
from modules.cache import ENGINE_VERSIONS, CacheSettings
from tests.environments.stage_edits import rejection
from tests.modules.test_cache import cache_alone


def group(stack):
    return stack.only("aws_elasticache_replication_group")


def test_every_stage_runs_valkey(stage_stack):
    """ElastiCache pricing: Valkey node-based clusters cost less per node than Redis OSS on the same node
    type ("up to 20% lower cost per node", Amazon ElastiCache FAQ, https://aws.amazon.com/elasticache/faqs/),
    with the same commands and clients ("all features available with Redis OSS 7.2 are available in Valkey
    7.2 and above", "Engine versions and upgrading in ElastiCache")."""
    config = load_stage(stage_stack.stage).cache
    assert config.engine == "valkey" and group(stage_stack)["engine"] == "valkey"
    assert group(stage_stack)["engine_version"] == config.engine_version in ENGINE_VERSIONS["valkey"]


def test_the_parameter_group_family_follows_engine_and_version(stage_stack):
    """ "Engine specific parameters" (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/
    ParameterGroups.Engine.html): "Valkey 8.2 parameter changes — Parameter group family: valkey8";
    "Valkey 7.2 parameters are the same as Redis OSS 7 parameters" (family valkey7); Redis OSS 7.x: redis7.
    A group of another family is refused by CreateReplicationGroup."""
    config = load_stage(stage_stack.stage).cache
    parameter_group = stage_stack.only("aws_elasticache_parameter_group")
    expected = {"valkey": {"7": "valkey7", "8": "valkey8"}, "redis": {"7": "redis7"}}[config.engine]
    assert parameter_group["family"] == expected[config.engine_version.split(".")[0]]
    assert parameter_group["name"].endswith(f"-{parameter_group['family']}")
    assert re.search(r"aws_elasticache_parameter_group\.", group(stage_stack)["parameter_group_name"])
    # a new family is a new group, made before the replication group moves to it
    assert parameter_group["lifecycle"]["create_before_destroy"] is True


def test_every_allowed_version_supports_iam_authentication():
    """ "Authenticating with IAM" (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html):
    "IAM authentication is available when using ElastiCache for Valkey 7.2 and above or Redis OSS 7.0 and
    above", with in-transit encryption. The app user has no password, so every version allowed must do it."""
    minimum = {"valkey": (7, 2), "redis": (7, 0)}
    for engine, versions in ENGINE_VERSIONS.items():
        for version in versions:
            assert tuple(int(part) for part in version.split(".")) >= minimum[engine], (engine, version)


def test_redis_oss_stays_selectable():
    _, stack = cache_alone(CacheSettings(engine="redis", engine_version="7.1"))
    assert group(stack)["engine"] == "redis" and group(stack)["engine_version"] == "7.1"
    assert stack.only("aws_elasticache_parameter_group")["family"] == "redis7"
    assert group(stack)["transit_encryption_mode"] == "required" and group(stack)["user_group_ids"]


@pytest.mark.parametrize(
    ("engine", "version", "allowed"),
    [
        ("valkey", "7.1", "for valkey: '7.2', '8.0', '8.1', '8.2'"),
        ("valkey", "9.0", "for valkey: '7.2', '8.0', '8.1', '8.2'"),
        ("redis", "8.2", "for redis: '7.0', '7.1'"),
        ("redis", "6.2", "for redis: '7.0', '7.1'"),
    ],
)
def test_a_version_the_engine_does_not_have_here_is_refused(engine, version, allowed):
    message = rejection("prod", "cache", engine=engine, engine_version=version)
    label = {"valkey": "Valkey", "redis": "Redis OSS"}[engine]
    assert f"cache.engine_version = {version!r}: not a {label} version this platform allows; allowed: {allowed}" in (
        message
    )


def test_an_unknown_engine_is_refused():
    message = rejection("prod", "cache", engine="memcached")
    assert "cache.engine = 'memcached': wrong type or value; allowed: 'valkey'" in message


def test_rbac_keeps_the_redis_engine_which_valkey_clusters_accept(stage_stack):
    """ "Role-Based Access Control (RBAC)" (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/
    Clusters.RBAC.html): "When using RBAC with a Valkey cluster, user groups with both engine 'VALKEY' and
    engine 'REDIS' can be used", while "A user group configured for the 'VALKEY' engine can only contain users
    that use an authentication mechanism (password or IAM)". The group needs a user named default
    (AWS::ElastiCache::UserGroup UserIds: "A user named default must be included"); IAM would need its user
    id to equal its name ("the username and user id properties must be identical", auth-iam.html), and the
    id "default" is the account's own default user; so a "valkey" group would need a password for a user
    that is switched off, kept in Terraform state. The "redis" group keeps that user password-less and off."""
    user_group = stage_stack.only("aws_elasticache_user_group")
    users = stage_stack.resources("aws_elasticache_user")
    assert user_group["engine"] == "redis" and {u["engine"] for u in users.values()} == {"redis"}
    default = next(u for u in users.values() if u["user_name"] == "default")
    assert default["access_string"].startswith("off") and default["user_id"] != "default"
    assert default["authentication_mode"] == {"type": "no-password-required"}
    assert not any("passwords" in u for u in users.values())


def test_the_names_people_read_follow_the_engine(stage_stack):
    label = {"valkey": "Valkey", "redis": "Redis OSS"}[load_stage(stage_stack.stage).cache.engine]
    outputs = stage_stack.outputs()
    assert outputs["cache_primary_endpoint"]["description"].startswith(f"{label} primary endpoint")
    alarms = [
        a
        for a in stage_stack.resources("aws_cloudwatch_metric_alarm").values()
        if "engine thread" in a.get("alarm_description", "")
    ]
    assert alarms and all(f"the {label} engine thread" in a["alarm_description"] for a in alarms)
