"""[backup] settings and [stage] dr_region: what AWS Backup refuses, refused before any Terraform is written;
the Vault Lock rules also run against the emulator's AWS Backup (moto, in process, offline)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from environments import load_stage
from modules.backup import BackupSettings
from tests.environments.stage_edits import rejection, rejection_of_edit


def test_a_time_that_is_not_a_time_is_refused():
    message = rejection("dev", "backup", daily_backup_time="25:00")
    assert "environments/dev.toml: backup.daily_backup_time = '25:00': not a time of day" in message


def test_a_restore_test_schedule_must_be_a_weekly_time():
    message = rejection("staging", "backup", restore_test_schedule="daily")
    assert "backup.restore_test_schedule = 'daily': not a weekly time; allowed: 'ddd:hh:mm' in UTC" in message


def test_the_schedules_become_aws_backup_cron_expressions():
    """AWS Backup schedules are six-field cron expressions in UTC ("Creating a backup plan"; restore
    testing plans take the same ScheduleExpression)."""
    settings = BackupSettings(daily_backup_time="05:30", restore_test_schedule="sun:23:05")
    assert settings.daily_schedule == "cron(30 5 * * ? *)"
    assert settings.restore_test_cron == "cron(5 23 ? * SUN *)"


def test_point_in_time_beyond_35_days_is_refused():
    """AWS Backup Developer Guide, "Changing your retention period": continuous backups keep "The minimum
    retention period is 1 day. The maximum retention period is 35 days"."""
    message = rejection("dev", "backup", assets_point_in_time_days=36)
    assert "backup.assets_point_in_time_days = 36: out of range; allowed: 1 to 35" in message


def test_a_compliance_lock_needs_three_days_of_grace():
    """API PutBackupVaultLockConfiguration: "you must set ChangeableForDays to 3 or greater"."""
    message = rejection("prod", "backup", vault_lock_grace_days=2)
    assert "backup.vault_lock_grace_days = 2: out of range; allowed: 3 to 36500" in message


def test_a_rule_retention_outside_the_lock_is_refused():
    """API PutBackupVaultLockConfiguration: a job whose retention is shorter than the minimum (longer than
    the maximum) fails; such a stage file is refused, naming the rule's setting."""
    message = rejection("prod", "backup", daily_retention_days=90)
    assert "backup.daily_retention_days = 90: outside the vault lock's retention range (7 to 35 days)" in message
    message = rejection("staging", "backup", copy_retention_days=3)
    assert "backup.copy_retention_days = 3: outside the vault lock's retention range (7 to 35 days)" in message


def test_the_database_retention_must_fit_the_lock_too():
    """The database's continuous backup keeps database.backup_retention_days: a locked vault fails it
    outside the lock's range (the check spans two sections)."""
    message = rejection("staging", "database", backup_retention_days=3)
    assert "environments/staging.toml: database.backup_retention_days = 3: outside the backup vault lock's" in message


def test_a_lock_minimum_above_its_maximum_is_refused():
    message = rejection("staging", "backup", vault_lock_min_retention_days=40, vault_lock_max_retention_days=30)
    assert (
        "backup.vault_lock_max_retention_days = 30: below the lock's minimum retention; allowed: 40 to 36500" in message
    )


def test_database_backup_replication_needs_a_dr_region():
    def edit(raw):
        raw["stage"].pop("dr_region")
        raw["backup"]["replicate_database_backups"] = True

    message = rejection_of_edit("staging", edit)
    assert "backup.replicate_database_backups = True: there is no disaster-recovery region to replicate to" in message


def test_the_dr_region_must_be_another_region():
    message = rejection("staging", "stage", dr_region="eu-west-1")
    assert "stage.dr_region = 'eu-west-1': not a second region" in message
    assert "stage.dr_region = 'mars-1': not a second region" in rejection("staging", "stage", dr_region="mars-1")


def test_shipped_stages():
    assert {s: load_stage(s).stage.dr_region for s in ("dev", "staging", "prod")} == {
        "dev": None,
        "staging": "eu-central-1",
        "prod": "eu-central-1",
    }
    assert {s: load_stage(s).backup.vault_lock for s in ("dev", "staging", "prod")} == {
        "dev": "none",
        "staging": "governance",
        "prod": "compliance",
    }


# -- the same rules, run against AWS Backup as the emulator implements it ------------------------------


@pytest.fixture
def backup():
    with mock_aws():
        client = boto3.client(
            "backup", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        client.create_backup_vault(BackupVaultName="digital-booking-prod")
        yield client


def test_the_emulator_refuses_less_than_three_days_of_grace(backup):
    with pytest.raises(ClientError, match="ChangeableForDays"):
        backup.put_backup_vault_lock_configuration(
            BackupVaultName="digital-booking-prod", MinRetentionDays=7, MaxRetentionDays=35, ChangeableForDays=2
        )


def test_the_emulator_refuses_a_minimum_above_the_maximum(backup):
    with pytest.raises(ClientError):
        backup.put_backup_vault_lock_configuration(
            BackupVaultName="digital-booking-prod", MinRetentionDays=40, MaxRetentionDays=30
        )


def test_the_emulator_takes_prods_lock_as_compliance_mode(backup):
    """Describe shows a lock date (compliance mode) only when ChangeableForDays was given: governance
    mode has none."""
    prod = load_stage("prod").backup
    backup.put_backup_vault_lock_configuration(
        BackupVaultName="digital-booking-prod",
        MinRetentionDays=prod.vault_lock_min_retention_days,
        MaxRetentionDays=prod.vault_lock_max_retention_days,
        ChangeableForDays=prod.vault_lock_grace_days,
    )
    vault = backup.describe_backup_vault(BackupVaultName="digital-booking-prod")
    assert vault["Locked"] is True and "LockDate" in vault
    assert (vault["MinRetentionDays"], vault["MaxRetentionDays"]) == (7, 35)
