"""Backup tier: AWS Backup for the stage's data, copies in a second region, and restore tests.

- A backup vault per stage, encrypted with its own KMS key. With a disaster-recovery region
  (``[stage] dr_region``) a second vault there, with its own key in that region, receives a copy of
  every recovery point (AWS Backup re-encrypts copies with the destination vault's key).
- One backup plan per protected resource (:meth:`StageBackups.protect_database`,
  :meth:`StageBackups.protect_bucket`), each with two rules: **continuous** backup (point-in-time
  restore to the second, at most 35 days back) and a **daily snapshot** kept longer. Both rules copy
  to the DR vault. For the database the continuous rule keeps the database tier's own automated-backup
  retention: AWS Backup's continuous backup of an RDS instance *is* its automated backups, managed by
  AWS Backup from then on, so the two must agree or each would undo the other.
- Vault Lock (``vault_lock``), on both vaults: recovery points cannot be deleted or shortened, and
  every backup or copy job must keep its recovery point between the lock's minimum and maximum
  retention (AWS fails the job otherwise; :meth:`BackupSettings.check` refuses such settings).
  *Governance* mode can be removed by anyone IAM allows to; *compliance* mode becomes immutable
  ``vault_lock_grace_days`` after it is applied: nobody, not the account's root user, can then remove
  it or delete a recovery point before its retention ends, and the vault itself can never be deleted
  while it holds one. Production uses compliance (``environments/production.py``): it is what still
  holds when the account itself is compromised.
- A restore testing plan (``restore_testing``) restores the latest recovery point of the database
  (into the stage's private data subnets behind the database's security group, never the default
  VPC) and of the bucket (into a new bucket) every week, keeps them ``restore_test_validation_hours``
  and deletes them; the restore jobs report like any other.
- The app servers' EBS volumes (:meth:`StageBackups.protect_volumes`, found by their tags) get short-lived
  daily snapshots in the stage's vault: they hold no data, but FSBP EC2.28 wants every volume covered.
- Every failed, aborted, expired or partial backup, copy or restore job (restore tests included)
  reaches the stage's alarm topic through an EventBridge rule.
- With ``replicate_database_backups``: RDS itself replicates the database's automated backups
  (snapshots and transaction logs) to the DR region, encrypted with a key there: point-in-time restore
  in the DR region, minutes behind the primary, independent of AWS Backup's daily copies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_restore_testing_plan import (
    BackupRestoreTestingPlan,
    BackupRestoreTestingPlanRecoveryPointSelection,
)
from cdktf_cdktf_provider_aws.backup_restore_testing_selection import BackupRestoreTestingSelection
from cdktf_cdktf_provider_aws.backup_selection import (
    BackupSelection,
    BackupSelectionCondition,
    BackupSelectionConditionStringEquals,
)
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_lock_configuration import BackupVaultLockConfiguration
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.db_instance_automated_backups_replication import (
    DbInstanceAutomatedBackupsReplication,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.kit import SecondRegion, StageContext, Tier, customer_managed_key, service_role
from modules.settings import SectionProblems, check_range, setting

#: AWS managed policies of the role AWS Backup assumes to back up (RDS and the rest; S3 needs its own),
#: and of the role it assumes for restore tests. Note the paths: the S3 ones have no ``service-role/``.
BACKUP_POLICIES = ("service-role/AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForS3Backup")
RESTORE_POLICIES = ("service-role/AWSBackupServiceRolePolicyForRestores", "AWSBackupServiceRolePolicyForS3Restore")
#: Continuous backups (point-in-time restore) keep 1 to 35 days ("Changing your retention period").
CONTINUOUS_MAX_DAYS = 35
#: Vault Lock: 72 hours of cooling-off before a compliance lock becomes immutable, retention up to 100 years.
LOCK_MIN_GRACE_DAYS = 3
LOCK_MAX_RETENTION_DAYS = 36500
#: The job window: a job not started within an hour is cancelled; one not finished in 8 hours is stopped.
START_WINDOW_MINUTES = 60
COMPLETION_WINDOW_MINUTES = 480
#: Job states that are trouble (the EventBridge ``state`` of backup, copy and restore job events).
FAILED_STATES = ("FAILED", "ABORTED", "EXPIRED", "PARTIAL")
JOB_EVENTS = ("Backup Job State Change", "Copy Job State Change", "Restore Job State Change")
DAILY_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKLY_TIME = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$")
#: AWS Backup cron day-of-week names.
CRON_DAYS = {"mon": "MON", "tue": "TUE", "wed": "WED", "thu": "THU", "fri": "FRI", "sat": "SAT", "sun": "SUN"}


@dataclass(frozen=True)
class BackupSettings:
    """[backup]: AWS Backup plans, the vaults' lock, the copies in the DR region, restore tests."""

    daily_backup_time: str = setting(
        "05:00",
        allowed=(
            "'hh:mm' in UTC when the daily snapshots start (within an hour), outside the database's backup and"
            " maintenance windows"
        ),
    )
    daily_retention_days: int = setting(35, allowed="days a daily snapshot is kept, 1 to 36500")
    #: Continuous backup (point-in-time restore) of the database and the bucket through AWS Backup.
    continuous_backup: bool = setting(
        True,
        allowed=(
            "true or false: continuous backup (point-in-time restore) of the database and the assets bucket through"
            " AWS Backup (true in production)"
        ),
    )
    assets_point_in_time_days: int = setting(
        35,
        allowed=(
            "days back the assets bucket can be restored to any second, 1 to 35 (the database keeps its own"
            " backup_retention_days)"
        ),
    )
    copy_retention_days: int = setting(
        35, allowed="days a copy in the disaster-recovery region's vault is kept, 1 to 36500 (needs [stage] dr_region)"
    )
    vault_lock: Literal["none", "governance", "compliance"] = setting(
        "none",
        allowed=(
            "'none', 'governance' (a lock IAM can still remove) or 'compliance' (immutable after"
            " vault_lock_grace_days: nobody can delete a recovery point early, ever; required in production)"
        ),
    )
    vault_lock_grace_days: int = setting(
        3,
        allowed=(
            "days a compliance lock can still be changed or removed after it is applied, 3 (AWS's minimum) to 36500"
        ),
    )
    vault_lock_min_retention_days: int = setting(
        7, allowed="the lock's minimum retention in days, 1 to 36500, at most every rule's retention"
    )
    vault_lock_max_retention_days: int = setting(
        365, allowed="the lock's maximum retention in days, up to 36500, at least every rule's retention"
    )
    restore_testing: bool = setting(
        True,
        allowed=(
            "true or false: restore the latest database and bucket recovery points every week and report"
            " (true in production)"
        ),
    )
    restore_test_schedule: str = setting(
        "tue:09:00", allowed="'ddd:hh:mm' in UTC: when the weekly restore test starts, e.g. 'tue:09:00'"
    )
    restore_test_validation_hours: int = setting(
        2, allowed="hours a restored test copy is kept for checks before it is deleted, 1 to 168"
    )
    app_volume_retention_days: int = setting(
        7,
        allowed=(
            "days a daily snapshot of the app servers' volumes is kept, 1 to 36500 (they hold no data: they are"
            " covered because FSBP EC2.28 wants every EBS volume in a backup plan; not copied to the DR region)"
        ),
    )
    replicate_database_backups: bool = setting(
        False,
        allowed=(
            "true or false: RDS replicates the database's automated backups to [stage] dr_region (point-in-time"
            " restore there; true in production)"
        ),
    )

    @property
    def daily_schedule(self) -> str:
        hour, minute = self.daily_backup_time.split(":")
        return f"cron({int(minute)} {int(hour)} * * ? *)"

    @property
    def restore_test_cron(self) -> str:
        day, hour, minute = self.restore_test_schedule.split(":")
        return f"cron({int(minute)} {int(hour)} ? * {CRON_DAYS[day]} *)"

    @property
    def locked(self) -> bool:
        return self.vault_lock != "none"

    def retentions(self, *, copies: bool) -> dict[str, int]:
        """The retention (days) of each kind of recovery point the vaults receive, by setting name."""
        kept = {
            "daily_retention_days": self.daily_retention_days,
            "app_volume_retention_days": self.app_volume_retention_days,
        }
        if self.continuous_backup:
            kept["assets_point_in_time_days"] = self.assets_point_in_time_days
        if copies:
            kept["copy_retention_days"] = self.copy_retention_days
        return kept

    def check(self, problems: SectionProblems, region: str) -> None:
        if not DAILY_TIME.match(self.daily_backup_time):
            problems.add(
                "daily_backup_time", self.daily_backup_time, "not a time of day", "'hh:mm' in UTC, e.g. '05:00'"
            )
        if not WEEKLY_TIME.match(self.restore_test_schedule):
            problems.add("restore_test_schedule", self.restore_test_schedule, "not a weekly time", "'ddd:hh:mm' in UTC")
        check_range(problems, "daily_retention_days", self.daily_retention_days, 1, LOCK_MAX_RETENTION_DAYS)
        check_range(problems, "copy_retention_days", self.copy_retention_days, 1, LOCK_MAX_RETENTION_DAYS)
        check_range(problems, "app_volume_retention_days", self.app_volume_retention_days, 1, LOCK_MAX_RETENTION_DAYS)
        check_range(problems, "assets_point_in_time_days", self.assets_point_in_time_days, 1, CONTINUOUS_MAX_DAYS)
        check_range(problems, "restore_test_validation_hours", self.restore_test_validation_hours, 1, 168)
        check_range(
            problems, "vault_lock_grace_days", self.vault_lock_grace_days, LOCK_MIN_GRACE_DAYS, LOCK_MAX_RETENTION_DAYS
        )
        low, high = self.vault_lock_min_retention_days, self.vault_lock_max_retention_days
        check_range(problems, "vault_lock_min_retention_days", low, 1, LOCK_MAX_RETENTION_DAYS)
        check_range(problems, "vault_lock_max_retention_days", high, 1, LOCK_MAX_RETENTION_DAYS)
        if low > high:
            problems.add("vault_lock_max_retention_days", high, "below the lock's minimum retention", f"{low} to 36500")
        if self.locked:
            # A locked vault fails every backup or copy job whose retention is outside the lock's range.
            for name, days in self.retentions(copies=True).items():
                if not low <= days <= high:
                    problems.add(
                        name,
                        days,
                        f"outside the vault lock's retention range ({low} to {high} days): AWS Backup would fail"
                        " every job that keeps its recovery point this long",
                        f"{low} to {high}, or change vault_lock_min/max_retention_days",
                    )


# -- what the tier protects -------------------------------------------------------------------------


class BackedUpDatabase(Protocol):
    """The database tier as AWS Backup sees it."""

    #: ARN of the primary instance.
    @property
    def instance_arn(self) -> str: ...

    #: Days of automated backups (point-in-time restore) the database tier keeps.
    @property
    def backup_retention_days(self) -> int: ...

    #: Where a restored copy must go: the DB subnet group and the database's security group.
    @property
    def subnet_group_name(self) -> str: ...

    @property
    def security_group_id(self) -> str: ...


class TaggedVolumes(Protocol):
    """A fleet whose EBS volumes carry these tags (the app servers')."""

    @property
    def volume_tags(self) -> Mapping[str, str]: ...


class BackedUpBucket(Protocol):
    """A versioned bucket (AWS Backup for S3 needs versioning)."""

    @property
    def bucket_arn(self) -> str: ...


class StageBackups(Tier[BackupSettings]):
    """The stage's vaults, backup plans, Vault Lock, DR copies and restore tests. See the module docstring."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: BackupSettings,
        context: StageContext,
        *,
        dr: SecondRegion | None,
        protect_from_deletion: bool,
    ) -> None:
        """``dr``: the disaster-recovery region and its provider (None: no copies outside the region);
        ``protect_from_deletion`` (prod): refuse ``terraform destroy`` of the vaults and their keys."""
        super().__init__(scope, id_, settings, context)
        if settings.replicate_database_backups and dr is None:
            raise ValueError("replicate_database_backups needs a disaster-recovery region ([stage] dr_region)")
        self.dr = dr
        name, account = context.name, context.account
        protected = TerraformResourceLifecycle(prevent_destroy=True) if protect_from_deletion else None

        self.vault_key = customer_managed_key(
            self,
            "vault-key",
            account,
            f"Encrypts the {name} backup vault",
            alias=f"{name}-backups",
            tags=context.tags,
            lifecycle=protected,
        )
        self.vault = BackupVault(
            self,
            "vault",
            name=name,
            kms_key_arn=self.vault_key.arn,
            tags=context.resource_tags,
            lifecycle=protected,
        )
        #: Name and ARN of the stage's vault.
        self.vault_name: str = self.vault.name
        self.vault_arn: str = self.vault.arn
        self._lock("vault-lock", self.vault.name, None)

        #: The DR region's vault (None without a DR region).
        self.dr_vault_arn: str | None = None
        self.dr_vault_name: str | None = None
        if dr is not None:
            dr_key = customer_managed_key(
                self,
                "dr-vault-key",
                account,
                f"Encrypts the {name} backup copies in {dr.name}",
                alias=f"{name}-backups",
                tags=context.tags,
                lifecycle=protected,
                provider=dr.provider,
            )
            dr_vault = BackupVault(
                self,
                "dr-vault",
                name=f"{name}-dr",
                kms_key_arn=dr_key.arn,
                tags=context.resource_tags,
                lifecycle=protected,
                provider=dr.provider,
            )
            self._lock("dr-vault-lock", dr_vault.name, dr)
            self.dr_vault_arn = dr_vault.arn
            self.dr_vault_name = dr_vault.name

        self.backup_role = self._role("backup-role", f"{name}-backup", BACKUP_POLICIES, "AWS Backup of")
        self.restore_test_role: IamRole | None = None
        self.restore_testing_plan_name: str | None = None
        if settings.restore_testing:
            self.restore_test_role = self._role(
                "restore-test-role", f"{name}-restore-test", RESTORE_POLICIES, "AWS Backup restore tests of"
            )
            self._restore_testing_plan()
        self._report_failures()

    # -- intent methods -----------------------------------------------------------------------------
    def protect_database(self, database: BackedUpDatabase) -> None:
        """Back the database up (continuous with the database's own retention, daily snapshots), test its
        restore, and, where the stage asks, have RDS replicate its automated backups to the DR region."""
        settings = self.settings
        if settings.locked and not (
            settings.vault_lock_min_retention_days
            <= database.backup_retention_days
            <= settings.vault_lock_max_retention_days
        ):
            raise ValueError(
                f"the database keeps {database.backup_retention_days} days of continuous backups, outside the vault"
                f" lock's {settings.vault_lock_min_retention_days} to {settings.vault_lock_max_retention_days} days:"
                " AWS Backup would fail every continuous backup job"
            )
        self._plan("database", database.instance_arn, database.backup_retention_days)
        if self.restore_testing_plan_name is not None and self.restore_test_role is not None:
            BackupRestoreTestingSelection(
                self,
                "database-restore-test",
                name="database",
                restore_testing_plan_name=self.restore_testing_plan_name,
                protected_resource_type="RDS",
                protected_resource_arns=[database.instance_arn],
                iam_role_arn=self.restore_test_role.arn,
                # Without these AWS Backup restores into the default VPC (or fails where there is none):
                # the test copy goes where the database lives, behind its security group.
                restore_metadata_overrides={
                    "dbsubnetgroupname": database.subnet_group_name,
                    "vpcsecuritygroupids": json.dumps([database.security_group_id]),
                },
                validation_window_hours=settings.restore_test_validation_hours,
            )
        if settings.replicate_database_backups:
            self._replicate_database_backups(database)

    def protect_bucket(self, bucket: BackedUpBucket) -> None:
        """Back a versioned bucket up (continuous, daily snapshots) and test its restore."""
        self._plan("assets", bucket.bucket_arn, self.settings.assets_point_in_time_days)
        if self.restore_testing_plan_name is not None and self.restore_test_role is not None:
            BackupRestoreTestingSelection(
                self,
                "assets-restore-test",
                name="assets",
                restore_testing_plan_name=self.restore_testing_plan_name,
                protected_resource_type="S3",
                protected_resource_arns=[bucket.bucket_arn],
                iam_role_arn=self.restore_test_role.arn,
                validation_window_hours=self.settings.restore_test_validation_hours,
            )

    def protect_volumes(self, fleet: TaggedVolumes) -> None:
        """Daily snapshots of a fleet's EBS volumes, found by their tags (instances come and go). The app
        servers hold no data (they are rebuilt from the AMI and the artifact): the snapshots are short-lived
        and stay in the region; they exist because FSBP EC2.28 wants every EBS volume in a backup plan."""
        context, settings = self.context, self.settings
        plan = BackupPlan(
            self,
            "app-volumes-plan",
            name=f"{context.name}-app-volumes",
            rule=[
                BackupPlanRule(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule=settings.daily_schedule,
                    start_window=START_WINDOW_MINUTES,
                    completion_window=COMPLETION_WINDOW_MINUTES,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=settings.app_volume_retention_days),
                    recovery_point_tags={"stage": context.name, "resource": "app-volumes"},
                )
            ],
            tags=context.resource_tags,
        )
        BackupSelection(
            self,
            "app-volumes-selection",
            name=f"{context.name}-app-volumes",
            plan_id=plan.id,
            iam_role_arn=self.backup_role.arn,
            # EBS volumes of this account and region, and only those carrying every one of the fleet's tags.
            resources=[context.account.arn("ec2", "volume/*", context.region)],
            condition=[
                BackupSelectionCondition(
                    string_equals=[
                        BackupSelectionConditionStringEquals(key=f"aws:ResourceTag/{key}", value=value)
                        for key, value in sorted(fleet.volume_tags.items())
                    ]
                )
            ],
        )

    # -- pieces -------------------------------------------------------------------------------------
    def _lock(self, id_: str, vault_name: str, region: SecondRegion | None) -> None:
        settings = self.settings
        if not settings.locked:
            return
        BackupVaultLockConfiguration(
            self,
            id_,
            backup_vault_name=vault_name,
            min_retention_days=settings.vault_lock_min_retention_days,
            max_retention_days=settings.vault_lock_max_retention_days,
            # No changeable_for_days is governance mode (removable through IAM); with it, compliance mode,
            # immutable once the grace days have passed. That is irreversible: see the module docstring.
            changeable_for_days=settings.vault_lock_grace_days if settings.vault_lock == "compliance" else None,
            provider=region.provider if region is not None else None,
        )

    def _role(self, id_: str, role_name: str, policies: tuple[str, ...], purpose: str) -> IamRole:
        context = self.context
        role = service_role(
            self,
            id_,
            role_name,
            "backup.amazonaws.com",
            description=f"{purpose} {context.name}",
            tags=context.tags,
        )
        for policy in policies:
            IamRolePolicyAttachment(
                self,
                f"{id_}-{policy.rsplit('/', 1)[-1]}",
                role=role.name,
                policy_arn=context.account.managed_policy_arn(policy),
            )
        return role

    def _plan(self, what: str, resource_arn: str, continuous_days: int) -> None:
        """One plan for one resource: a continuous rule (``continuous_days``) and a daily snapshot rule,
        both copied to the DR vault when there is one."""
        settings, name = self.settings, self.context.name
        copy = (
            [
                BackupPlanRuleCopyAction(
                    destination_vault_arn=self.dr_vault_arn,
                    lifecycle=BackupPlanRuleCopyActionLifecycle(delete_after=settings.copy_retention_days),
                )
            ]
            if self.dr_vault_arn is not None
            else None
        )
        common = dict(
            target_vault_name=self.vault.name,
            schedule=settings.daily_schedule,
            start_window=START_WINDOW_MINUTES,
            completion_window=COMPLETION_WINDOW_MINUTES,
            copy_action=copy,
            recovery_point_tags={"stage": name, "resource": what},
        )
        rules = [
            BackupPlanRule(
                rule_name="daily",
                lifecycle=BackupPlanRuleLifecycle(delete_after=settings.daily_retention_days),
                **common,  # type: ignore[arg-type]
            )
        ]
        if settings.continuous_backup:
            rules.append(
                BackupPlanRule(
                    rule_name="continuous",
                    enable_continuous_backup=True,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=continuous_days),
                    **common,  # type: ignore[arg-type]
                )
            )
        plan = BackupPlan(self, f"{what}-plan", name=f"{name}-{what}", rule=rules, tags=self.context.resource_tags)
        BackupSelection(
            self,
            f"{what}-selection",
            name=f"{name}-{what}",
            plan_id=plan.id,
            iam_role_arn=self.backup_role.arn,
            resources=[resource_arn],
        )

    def _restore_testing_plan(self) -> None:
        settings, name = self.settings, self.context.name
        plan = BackupRestoreTestingPlan(
            self,
            "restore-testing-plan",
            # Restore testing names: letters, digits and underscores only.
            name=re.sub(r"[^A-Za-z0-9]", "_", name) + "_restore_tests",
            schedule_expression=settings.restore_test_cron,
            schedule_expression_timezone="Etc/UTC",
            start_window_hours=1,
            recovery_point_selection=[
                BackupRestoreTestingPlanRecoveryPointSelection(
                    algorithm="LATEST_WITHIN_WINDOW",
                    include_vaults=[self.vault.arn],
                    recovery_point_types=["CONTINUOUS", "SNAPSHOT"],
                    selection_window_days=7,
                )
            ],
            tags=self.context.resource_tags,
        )
        self.restore_testing_plan_name = plan.name

    def _report_failures(self) -> None:
        """Failed backup, copy and restore jobs (restore tests included) to the alarm topic. AWS Backup
        emits these events to EventBridge; the vault notification API is not used (AWS marks several of
        its failure events as deprecated)."""
        context = self.context
        rule = CloudwatchEventRule(
            self,
            "job-failures",
            name=f"{context.name}-backup-job-failures",
            description=f"Failed, aborted, expired or partial AWS Backup jobs of {context.name}",
            event_pattern=json.dumps(
                {
                    "source": ["aws.backup"],
                    "detail-type": list(JOB_EVENTS),
                    "detail": {"state": list(FAILED_STATES)},
                }
            ),
            tags=context.resource_tags,
        )
        CloudwatchEventTarget(self, "job-failures-to-alarms", rule=rule.name, arn=context.alarm_topic_arn)
        #: The rule, for tests and the monitoring tier.
        self.failure_rule_name: str = rule.name

    def _replicate_database_backups(self, database: BackedUpDatabase) -> None:
        """RDS replicates snapshots and transaction logs to the DR region, encrypted with a key there
        (StartDBInstanceAutomatedBackupsReplication: the key must be in the destination region)."""
        dr, context = self.dr, self.context
        assert dr is not None
        key = customer_managed_key(
            self,
            "dr-database-backups-key",
            context.account,
            f"Encrypts the {context.name} database's automated backups replicated to {dr.name}",
            alias=f"{context.name}-database-backups",
            tags=context.tags,
            provider=dr.provider,
        )
        DbInstanceAutomatedBackupsReplication(
            self,
            "database-backups-replication",
            source_db_instance_arn=database.instance_arn,
            kms_key_id=key.arn,
            retention_period=database.backup_retention_days,
            provider=dr.provider,
        )
