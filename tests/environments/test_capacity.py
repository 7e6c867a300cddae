"""The capacity model: pool size x the most instances at once under 80 % of the database's max_connections."""

from __future__ import annotations

import math

import pytest

from environments import load_stage, stage_names
from environments.capacity import BUDGET, CLASS_MEMORY_GIB, capacity_of, max_connections
from modules.app_servers import MAX_HEALTHY_PERCENT, peak_instances
from tests.environments.stage_edits import rejection


@pytest.mark.parametrize("stage", stage_names())
def test_each_stage_fleet_stays_within_its_database_connection_budget(stage):
    """ "Quotas and constraints for Amazon RDS", "Maximum number of database connections": MySQL's default
    max_connections is {DBInstanceClassMemory/12582880}, PostgreSQL's LEAST({DBInstanceClassMemory/9531392},
    5000) (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections).
    The app's pool (the size it is given at boot) times the most instances that run at once stays under 80 %."""
    config = load_stage(stage)
    memory = CLASS_MEMORY_GIB[config.database.instance_class] * 1024**3
    formula = memory // 12582880 if config.database.engine == "mysql" else min(memory // 9531392, 5000)
    most_instances = config.app_servers.max_size + max(
        1, math.ceil(config.app_servers.max_size * (MAX_HEALTHY_PERCENT - 100) / 100)
    )
    assert config.app_servers.db_pool_size * most_instances < BUDGET * formula


def test_the_app_is_given_its_pool_size(stage_stack):
    import base64

    config = load_stage(stage_stack.stage)
    user_data = base64.b64decode(stage_stack.only("aws_launch_template")["user_data"]).decode()
    assert f"--spring.datasource.hikari.maximum-pool-size={config.app_servers.db_pool_size}" in user_data


def test_the_formula_on_known_classes():
    assert max_connections("mysql", "db.t4g.micro") == 85  # 1 GiB
    assert max_connections("mysql", "db.r7g.large") == 1365  # 16 GiB
    assert max_connections("postgres", "db.r7g.large") == 1802
    assert max_connections("postgres", "db.r7g.2xlarge") == 5000  # LEAST(..., 5000)


def test_the_most_instances_at_once_include_a_replacement():
    """InstanceMaintenancePolicy MaxHealthyPercentage 110: while replacing, the group may run 10 % above its
    desired capacity (at least one instance: a launch before the terminate), also at max_size."""
    assert peak_instances(2) == 3 and peak_instances(9) == 10 and peak_instances(30) == 33


def test_a_pool_too_large_for_the_database_is_refused():
    message = rejection("dev", "app_servers", db_pool_size=40)
    assert (
        "environments/dev.toml: app_servers.db_pool_size = 40: 40 connections x 3 instances at most (max_size 2 and"
        " one replacement batch) = 120, over 80 % of db.t4g.micro's max_connections for mysql (85): 68" in message
    )
    assert "allowed: at most 22 per instance, fewer instances, or a larger database class" in message


def test_more_instances_than_the_database_can_take_are_refused():
    message = rejection("staging", "app_servers", max_size=30, db_pool_size=10)
    assert "app_servers.db_pool_size = 10: 10 connections x 33 instances at most" in message


def test_a_class_the_model_does_not_know_is_refused():
    message = rejection("staging", "database", instance_class="db.x2g.large")
    assert "database.instance_class = 'db.x2g.large': the capacity model does not know this class's memory" in message


def test_capacity_of_names_the_rate_the_fleet_is_sized_for():
    capacity = capacity_of(load_stage("prod"))
    assert capacity.sized_for_requests_per_minute == 1000 * 9
