"""[database] settings: engines, versions, sizes, windows and backups RDS would refuse."""

from __future__ import annotations

import pytest

from environments import load_stage, parse_stage, stage_names
from tests.environments.stage_edits import rejection, shipped


def test_every_stage_runs_mysql_8_4():
    assert {(load_stage(s).database.engine, load_stage(s).database.version) for s in stage_names()} == {
        ("mysql", "8.4")
    }


def test_the_default_version_is_the_newest_in_standard_support():
    from modules.database import DatabaseSettings

    assert DatabaseSettings().version == "8.4" and DatabaseSettings(engine="postgres").version == "17"


def test_mysql_8_0_is_refused_with_the_reason():
    """ "Supported MySQL major versions on Amazon RDS" (RDS User Guide): MySQL 8.0 reached the end of RDS
    standard support on 2026-07-31; past it RDS bills Extended Support ("Using Amazon RDS Extended
    Support"), and with it disabled (as here) RDS refuses to create the instance."""
    message = rejection("dev", "database", engine_version="8.0")
    assert (
        "environments/dev.toml: database.engine_version = '8.0': mysql 8.0 left RDS standard support on 2026-07-31"
        in message
    )
    assert "billed for RDS Extended Support" in message and "allowed: '8.4' (or '8.4.x') for engine 'mysql'" in message


def test_unknown_engine_is_rejected():
    message = rejection("dev", "database", engine="oracle")
    assert "environments/dev.toml: database.engine = 'oracle'" in message and "allowed: 'mysql'" in message


def test_engine_version_of_another_family_is_rejected():
    message = rejection("dev", "database", engine_version="9.1")
    assert (
        "environments/dev.toml: database.engine_version = '9.1': not a supported mysql version family; allowed: '8.4'"
    ) in message


def test_postgres_needs_a_postgres_version():
    message = rejection("dev", "database", engine="postgres", engine_version="8.0")
    assert "environments/dev.toml: database.engine_version = '8.0': not a supported postgres version family" in message
    assert "allowed: '17' (or '17.x') or '16' (or '16.x') for engine 'postgres'" in message


def test_postgres_16_is_accepted():
    raw = shipped("dev")
    raw["database"].update(engine="postgres", engine_version="16.4")
    assert parse_stage("dev", raw, "environments/dev.toml").database.effective_port == 5432


@pytest.mark.parametrize("days", [-1, 36])
def test_backup_retention_outside_0_to_35_is_rejected(days):
    message = rejection("dev", "database", backup_retention_days=days)
    assert f"environments/dev.toml: database.backup_retention_days = {days}: out of range; allowed: 0 to 35" in message


def test_max_storage_below_allocated_is_rejected():
    message = rejection("dev", "database", allocated_storage_gb=100, max_allocated_storage_gb=50)
    assert "environments/dev.toml: database.max_allocated_storage_gb = 50: below allocated_storage_gb (100)" in message
    assert "allowed: 100 to 65536" in message


@pytest.mark.parametrize("count", [-1, 6])
def test_replica_count_outside_0_to_5_is_rejected(count):
    message = rejection("dev", "database", read_replicas=count)
    assert f"environments/dev.toml: database.read_replicas = {count}: out of range; allowed: 0 to 5" in message


def test_default_master_username_is_rejected():
    assert "database.master_username = 'admin': default or malformed user name" in rejection(
        "dev", "database", master_username="admin"
    )


def test_malformed_instance_class_is_rejected():
    assert "database.instance_class = 'r7g.large': not an RDS instance class" in rejection(
        "dev", "database", instance_class="r7g.large"
    )


def test_malformed_backup_window_is_rejected():
    assert "database.backup_window = '2am': not a daily window" in rejection("dev", "database", backup_window="2am")


def test_database_maintenance_overlapping_the_backup_window_is_rejected():
    message = rejection("staging", "database", backup_window="03:00-04:00", maintenance_window="sun:03:30-sun:04:30")
    assert (
        "environments/staging.toml: database.maintenance_window = 'sun:03:30-sun:04:30': overlaps backup_window"
        " (03:00-04:00); allowed: a weekly window outside the daily backup_window"
    ) in message


def test_windows_that_wrap_midnight_and_the_week_are_checked():
    message = rejection("dev", "database", backup_window="23:30-00:30", maintenance_window="sun:23:45-mon:00:15")
    assert "database.maintenance_window = 'sun:23:45-mon:00:15': overlaps backup_window (23:30-00:30)" in message


def test_windows_side_by_side_are_accepted():
    raw = shipped("prod")
    raw["database"].update(backup_window="23:30-00:30", maintenance_window="sun:00:30-sun:01:30")
    raw["cache"].update(snapshot_window="04:00-05:00", maintenance_window="sat:05:00-sat:06:00")
    parse_stage("prod", raw, "environments/prod.toml")


def test_database_maintenance_window_shorter_than_30_minutes_is_rejected():
    message = rejection("dev", "database", maintenance_window="sun:03:30-sun:03:45")
    assert "database.maintenance_window = 'sun:03:30-sun:03:45': shorter than RDS's minimum" in message


def test_the_app_user_must_not_be_the_master_user():
    message = rejection("dev", "database", app_username="booking_admin")
    assert "database.app_username = 'booking_admin': not a user name, or the master user" in message
