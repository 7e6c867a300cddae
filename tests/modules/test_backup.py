"""Backup tier, per stage: vaults and their keys, the plans and their copies to the DR region, Vault Lock,
restore tests, failed jobs reaching the alarm topic, and RDS backup replication."""

from __future__ import annotations

import json
import re

import pytest

from environments import load_stage
from modules.backup import CONTINUOUS_MAX_DAYS, FAILED_STATES, JOB_EVENTS
from tests.tf_json import refers_to


def vaults(stack) -> dict[str, dict]:
    return stack.resources("aws_backup_vault")


def stage_vault(stack) -> tuple[str, dict]:
    [(name, vault)] = [(n, v) for n, v in vaults(stack).items() if "provider" not in v]
    return name, vault


def dr_vault(stack) -> tuple[str, dict]:
    [(name, vault)] = [(n, v) for n, v in vaults(stack).items() if v.get("provider") == "aws.dr"]
    return name, vault


def key_of(stack, reference: str) -> tuple[str, dict]:
    [(name, key)] = [
        (n, k) for n, k in stack.resources("aws_kms_key").items() if refers_to(reference, "aws_kms_key", n)
    ]
    return name, key


def plan(stack, what: str) -> dict:
    [found] = [p for p in stack.resources("aws_backup_plan").values() if p["name"] == f"{stack.name}-{what}"]
    return found


def rules(stack, what: str) -> dict[str, dict]:
    return {r["rule_name"]: r for r in plan(stack, what)["rule"]}


def primary_db(stack) -> str:
    [name] = [n for n, i in stack.resources("aws_db_instance").items() if "replicate_source_db" not in i]
    return name


def assets_bucket(stack) -> str:
    [name] = [n for n, b in stack.resources("aws_s3_bucket").items() if re.search(r"-assets-\$", b["bucket"])]
    return name


# -- vaults ------------------------------------------------------------------------------------------


def test_each_stage_has_a_vault_encrypted_with_its_own_rotating_key(stage_stack):
    """checkov CKV_AWS_166 / AWS Backup Developer Guide, "Encryption for backups in AWS Backup": a vault's
    recovery points are encrypted with the vault's KMS key; a customer-managed key of its own, used by
    nothing else, with rotation."""
    _, vault = stage_vault(stage_stack)
    key_name, key = key_of(stage_stack, vault["kms_key_arn"])
    assert key["enable_key_rotation"] is True
    users = [
        (t, n)
        for t, items in stage_stack.json["resource"].items()
        for n, r in items.items()
        if t != "aws_kms_alias" and refers_to(r, "aws_kms_key", key_name)
    ]
    assert users == [("aws_backup_vault", stage_vault(stage_stack)[0])]


def test_stages_with_a_dr_region_have_a_vault_there_with_a_key_there(stage_stack):
    """A KMS key is regional: the DR vault's key must live in the DR region (the ``dr`` provider), and the
    stage's own vault and key stay in the stage's region."""
    config = load_stage(stage_stack.stage)
    if config.stage.dr_region is None:
        assert [v for v in vaults(stage_stack).values() if "provider" in v] == []
        return
    _, vault = dr_vault(stage_stack)
    _, key = key_of(stage_stack, vault["kms_key_arn"])
    assert key["provider"] == "aws.dr" and key["enable_key_rotation"] is True
    assert vault["name"] == f"{stage_stack.name}-dr"


# -- plans -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["database", "assets"])
def test_every_resource_gets_a_daily_snapshot_and_continuous_backup(stage_stack, what):
    """AWS Backup Developer Guide, "Continuous backups and point-in-time recovery (PITR)": RDS and S3
    support continuous backup ("we recommend that you protect your resources with both continuous and
    snapshot backup rules"); "Changing your retention period": a continuous rule keeps 1 to 35 days."""
    config = load_stage(stage_stack.stage)
    found = rules(stage_stack, what)
    assert set(found) == {"daily", "continuous"}
    assert found["daily"]["schedule"] == config.backup.daily_schedule
    assert re.fullmatch(r"cron\(\d{1,2} \d{1,2} \* \* \? \*\)", found["daily"]["schedule"])
    assert found["daily"]["lifecycle"]["delete_after"] == config.backup.daily_retention_days
    assert "enable_continuous_backup" not in found["daily"]
    assert found["continuous"]["enable_continuous_backup"] is True
    assert 1 <= found["continuous"]["lifecycle"]["delete_after"] <= CONTINUOUS_MAX_DAYS
    _, vault = stage_vault(stage_stack)
    assert all(
        refers_to(r["target_vault_name"], "aws_backup_vault", stage_vault(stage_stack)[0]) for r in found.values()
    )
    assert vault["name"] == stage_stack.name


def test_the_database_continuous_backup_keeps_the_database_retention(stage_stack):
    """AWS Backup's continuous backup of an RDS instance is its automated backups, managed by AWS Backup
    ("Amazon RDS calls its continuous backups automated backups", AWS Backup Developer Guide, PITR page;
    "Changing your retention period": for RDS AWS Backup updates the one recovery point with the plan's
    retention): the rule keeps the database tier's backup_retention_days, so neither undoes the other."""
    config = load_stage(stage_stack.stage)
    assert rules(stage_stack, "database")["continuous"]["lifecycle"]["delete_after"] == (
        config.database.backup_retention_days
    )
    assert rules(stage_stack, "assets")["continuous"]["lifecycle"]["delete_after"] == (
        config.backup.assets_point_in_time_days
    )


@pytest.mark.parametrize("what", ["database", "assets"])
def test_every_recovery_point_is_copied_to_the_dr_vault(stage_stack, what):
    """AWS Backup Developer Guide, "Creating backup copies across AWS Regions": a rule's copy action names
    the destination vault's ARN (another region's vault: its key re-encrypts the copy)."""
    config = load_stage(stage_stack.stage)
    for rule in rules(stage_stack, what).values():
        if config.stage.dr_region is None:
            assert "copy_action" not in rule
            continue
        [copy] = rule["copy_action"]
        assert refers_to(copy["destination_vault_arn"], "aws_backup_vault", dr_vault(stage_stack)[0])
        assert copy["lifecycle"]["delete_after"] == config.backup.copy_retention_days


@pytest.mark.parametrize("what", ["database", "assets"])
def test_each_plan_selects_its_resource_with_the_backup_role(stage_stack, what):
    """FSBP RDS.26 ("RDS DB instances should be protected by a backup plan") counts AWS Backup coverage
    only. The selection names the resource's ARN, so AWS Backup protects it whatever the Region's service
    opt-in (API UpdateRegionSettings: "If a resource type is explicitly assigned to a backup plan, such as
    Amazon S3, Amazon EC2, or Amazon RDS, it will be included in the backup even if the opt-in is not
    enabled")."""
    [plan_name] = [n for n, p in stage_stack.resources("aws_backup_plan").items() if p["name"].endswith(f"-{what}")]
    [selection] = [
        s
        for s in stage_stack.resources("aws_backup_selection").values()
        if refers_to(s["plan_id"], "aws_backup_plan", plan_name)
    ]
    [resource] = selection["resources"]
    if what == "database":
        assert refers_to(resource, "aws_db_instance", primary_db(stage_stack)) and resource.endswith(".arn}")
    else:
        assert refers_to(resource, "aws_s3_bucket", assets_bucket(stage_stack)) and resource.endswith(".arn}")
    assert refers_to(selection["iam_role_arn"], "aws_iam_role", role_named(stage_stack, "backup")[0])


def role_named(stack, suffix: str) -> tuple[str, dict]:
    [(name, role)] = [
        (n, r) for n, r in stack.resources("aws_iam_role").items() if r["name"] == f"{stack.name}-{suffix}"
    ]
    return name, role


def attached(stack, role_name: str) -> set[str]:
    return {
        a["policy_arn"].split(":policy/")[1]
        for a in stack.resources("aws_iam_role_policy_attachment").values()
        if refers_to(a["role"], "aws_iam_role", role_name)
    }


def test_the_backup_role_is_for_aws_backup_with_its_managed_policies(stage_stack):
    """AWS Managed Policy reference: AWSBackupServiceRolePolicyForBackup (path ``service-role/``) and
    AWSBackupServiceRolePolicyForS3Backup (no ``service-role/``: "arn:aws:iam::aws:policy/
    AWSBackupServiceRolePolicyForS3Backup"); the role only backup.amazonaws.com may assume, nothing inline."""
    name, role = role_named(stage_stack, "backup")
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}
    assert attached(stage_stack, name) == {
        "service-role/AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForS3Backup",
    }
    assert not [
        p for p in stage_stack.resources("aws_iam_role_policy").values() if refers_to(p["role"], "aws_iam_role", name)
    ]


# -- Vault Lock --------------------------------------------------------------------------------------


def test_prod_locks_both_vaults_in_compliance_mode(prod):
    """AWS Backup Developer Guide, "AWS Backup Vault Lock": a lock in compliance mode "cannot be removed"
    once its grace time ends; API PutBackupVaultLockConfiguration: ChangeableForDays ("you must set
    ChangeableForDays to 3 or greater") is what makes it compliance mode."""
    locks = prod.resources("aws_backup_vault_lock_configuration").values()
    locked = {("dr" if lock.get("provider") == "aws.dr" else "stage"): lock for lock in locks}
    assert set(locked) == {"stage", "dr"}
    config = load_stage("prod").backup
    for lock in locked.values():
        assert lock["changeable_for_days"] == config.vault_lock_grace_days >= 3
        assert (lock["min_retention_days"], lock["max_retention_days"]) == (
            config.vault_lock_min_retention_days,
            config.vault_lock_max_retention_days,
        )
    assert refers_to(locked["stage"]["backup_vault_name"], "aws_backup_vault", stage_vault(prod)[0])
    assert refers_to(locked["dr"]["backup_vault_name"], "aws_backup_vault", dr_vault(prod)[0])


def test_staging_locks_in_governance_mode_and_dev_not_at_all(stacks):
    """Governance mode (no ChangeableForDays) is the lock that IAM can still remove: staging rehearses prod's
    lock without its irreversibility; dev has none."""
    staging = stacks["digital-booking-staging"].resources("aws_backup_vault_lock_configuration").values()
    assert len(staging) == 2 and all("changeable_for_days" not in lock for lock in staging)
    assert stacks["digital-booking-dev"].resources("aws_backup_vault_lock_configuration") == {}


def test_every_retention_a_locked_vault_receives_is_within_the_lock(stage_stack):
    """API PutBackupVaultLockConfiguration: with a minimum (maximum) retention "any backup or copy job to the
    vault must have a lifecycle policy with a retention period equal to or longer (shorter)" than it, else
    "the vault fails the backup or copy job". Read from the synthesized plans, not the settings."""
    locks = list(stage_stack.resources("aws_backup_vault_lock_configuration").values())
    if not locks:
        return
    for lock in locks:
        low, high = lock["min_retention_days"], lock["max_retention_days"]
        for p in stage_stack.resources("aws_backup_plan").values():
            for rule in p["rule"]:
                to_dr = lock.get("provider") == "aws.dr"
                days = (
                    [c["lifecycle"]["delete_after"] for c in rule.get("copy_action", [])]
                    if to_dr
                    else [rule["lifecycle"]["delete_after"]]
                )
                assert all(low <= d <= high for d in days), (p["name"], rule["rule_name"], days, low, high)


# -- restore tests -----------------------------------------------------------------------------------


def test_restore_tests_restore_the_database_into_its_own_subnets_and_security_group(stage_stack):
    """AWS Backup Developer Guide, "Restore testing inferred metadata": without overrides AWS Backup
    restores an RDS database "to the default VPC", and "if the default is not present ... the restore will
    not be successful": the test copy goes to the database's subnet group and security group.
    API RestoreTestingSelectionForCreate: ValidationWindowHours 0 to 168; names: letters, digits, '_'."""
    config = load_stage(stage_stack.stage).backup
    selections = stage_stack.resources("aws_backup_restore_testing_selection")
    if not config.restore_testing:
        assert selections == {} and stage_stack.resources("aws_backup_restore_testing_plan") == {}
        return
    [(plan_name, plan_)] = stage_stack.resources("aws_backup_restore_testing_plan").items()
    assert re.fullmatch(r"[A-Za-z0-9_]{1,50}", plan_["name"])
    assert plan_["schedule_expression"] == config.restore_test_cron
    assert re.fullmatch(r"cron\(\d{1,2} \d{1,2} \? \* (MON|TUE|WED|THU|FRI|SAT|SUN) \*\)", plan_["schedule_expression"])
    [point] = plan_["recovery_point_selection"]
    assert point["algorithm"] == "LATEST_WITHIN_WINDOW"
    assert all(refers_to(v, "aws_backup_vault", stage_vault(stage_stack)[0]) for v in point["include_vaults"])
    by_type = {s["protected_resource_type"]: s for s in selections.values()}
    assert set(by_type) == {"RDS", "S3"}
    for selection in by_type.values():
        assert selection["restore_testing_plan_name"] == f"${{aws_backup_restore_testing_plan.{plan_name}.name}}"
        assert 1 <= selection["validation_window_hours"] <= 168
        assert refers_to(selection["iam_role_arn"], "aws_iam_role", role_named(stage_stack, "restore-test")[0])
    rds = by_type["RDS"]
    assert refers_to(rds["protected_resource_arns"], "aws_db_instance", primary_db(stage_stack))
    overrides = rds["restore_metadata_overrides"]
    assert "aws_db_subnet_group." in overrides["dbsubnetgroupname"]
    [group] = json.loads(overrides["vpcsecuritygroupids"])
    db = stage_stack.resources("aws_db_instance")[primary_db(stage_stack)]
    assert group in db["vpc_security_group_ids"]
    assert refers_to(by_type["S3"]["protected_resource_arns"], "aws_s3_bucket", assets_bucket(stage_stack))


def test_the_restore_test_role_may_restore_and_nothing_else(stage_stack):
    if not load_stage(stage_stack.stage).backup.restore_testing:
        return
    name, role = role_named(stage_stack, "restore-test")
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}
    assert attached(stage_stack, name) == {
        "service-role/AWSBackupServiceRolePolicyForRestores",
        "AWSBackupServiceRolePolicyForS3Restore",
    }


def test_prod_and_staging_test_their_restores_and_dev_does_not(stacks):
    assert {s: load_stage(s).backup.restore_testing for s in ("dev", "staging", "prod")} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }


# -- failed jobs reach the alarm topic ---------------------------------------------------------------


def matches(pattern: dict, event: dict) -> bool:
    """EventBridge's exact-value matching (what this pattern uses): every key of the pattern is in the event,
    a list matches when the event's value is one of its values, a dict recurses."""
    for key, wanted in pattern.items():
        if key not in event:
            return False
        if isinstance(wanted, dict):
            if not isinstance(event[key], dict) or not matches(wanted, event[key]):
                return False
        elif event[key] not in wanted:
            return False
    return True


def backup_event(detail_type: str, state: str) -> dict:
    """Shaped like the samples of EventBridge Events Reference, "AWS Backup events"."""
    return {
        "version": "0",
        "source": "aws.backup",
        "detail-type": detail_type,
        "account": "123456789012",
        "region": "eu-west-1",
        "detail": {"backupJobId": "4F8F9A8B-1D21-4C4A-9D6A-0C0F6B0A5B6C", "state": state, "resourceType": "RDS"},
    }


def test_failed_backup_copy_and_restore_jobs_reach_the_alarm_topic(stage_stack):
    """EventBridge Events Reference, "AWS Backup events": Backup/Copy/Restore Job State Change events with
    ``detail.state``; AWS Backup Developer Guide, "Notification options": the vault notification API lists
    deprecated events, so failures are taken from EventBridge. Restore tests run restore jobs, so their
    failures come the same way."""
    [(rule_name, rule)] = stage_stack.resources("aws_cloudwatch_event_rule").items()
    pattern = json.loads(rule["event_pattern"])
    for detail_type in JOB_EVENTS:
        for state in FAILED_STATES:
            assert matches(pattern, backup_event(detail_type, state)), (detail_type, state)
        for state in ("CREATED", "RUNNING", "COMPLETED"):
            assert not matches(pattern, backup_event(detail_type, state)), (detail_type, state)
    assert not matches(pattern, {**backup_event("Backup Job State Change", "FAILED"), "source": "aws.rds"})
    [target] = stage_stack.resources("aws_cloudwatch_event_target").values()
    assert target["rule"] == f"${{aws_cloudwatch_event_rule.{rule_name}.name}}"
    assert refers_to(target["arn"], "aws_sns_topic", alarm_topic(stage_stack))


def alarm_topic(stack) -> str:
    [name] = [n for n, t in stack.resources("aws_sns_topic").items() if t["name"].endswith("-alarms")]
    return name


def test_the_alarm_topic_lets_eventbridge_rules_of_this_account_publish(stage_stack):
    """Without an sns:Publish grant to events.amazonaws.com (and the key's use, the topic being encrypted)
    the rule's deliveries fail (AWS re:Post, "Why isn't my Amazon SNS topic receiving EventBridge
    notifications?")."""
    [policy] = [
        p
        for p in stage_stack.resources("aws_sns_topic_policy").values()
        if refers_to(p["arn"], "aws_sns_topic", alarm_topic(stage_stack))
    ]
    [publish] = [
        s
        for s in json.loads(policy["policy"])["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert publish["Action"] == "sns:Publish" and publish["Effect"] == "Allow"
    assert ":events:eu-west-1:" in publish["Condition"]["ArnLike"]["aws:SourceArn"]
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":rule/*")


# -- the database's automated backups in the DR region -----------------------------------------------


def test_prod_replicates_the_database_backups_to_the_dr_region_with_a_key_there(prod):
    """RDS API StartDBInstanceAutomatedBackupsReplication: KmsKeyId is "the ARN for the KMS encryption key
    in the destination AWS Region" (the resource is created with the destination region's provider);
    checkov CKV_AWS_245 wants the key. RDS User Guide, "Replicating automated backups to another AWS
    Region": supported for Multi-AZ DB instance deployments."""
    replication = prod.only("aws_db_instance_automated_backups_replication")
    assert replication["provider"] == "aws.dr"
    assert refers_to(replication["source_db_instance_arn"], "aws_db_instance", primary_db(prod))
    _, key = key_of(prod, replication["kms_key_id"])
    assert key["provider"] == "aws.dr" and key["enable_key_rotation"] is True
    assert replication["retention_period"] == load_stage("prod").database.backup_retention_days
    assert prod.resources("aws_db_instance")[primary_db(prod)]["multi_az"] is True


def test_only_stages_that_ask_replicate_database_backups(stage_stack):
    for stack in (stage_stack,):
        wanted = load_stage(stack.stage).backup.replicate_database_backups
        assert len(stack.resources("aws_db_instance_automated_backups_replication")) == int(wanted), stack.name


def test_prod_vaults_and_keys_refuse_destroy(prod):
    for name, vault in vaults(prod).items():
        assert vault["lifecycle"]["prevent_destroy"] is True, name
        assert key_of(prod, vault["kms_key_arn"])[1]["lifecycle"]["prevent_destroy"] is True, name


def test_the_app_servers_volumes_are_in_a_backup_plan_by_their_tags(stage_stack):
    """FSBP EC2.28 ("EBS volumes should be covered by a backup plan", Security Hub controls for Amazon
    EC2): the Auto Scaling group's instances come and go, so their volumes are selected by the tags the
    launch template gives every volume (tag_specifications "volume"), ANDed as conditions, among this
    account's and region's EBS volumes only. They hold no data: daily, short-lived, not copied."""
    config = load_stage(stage_stack.stage).backup
    found = rules(stage_stack, "app-volumes")
    assert set(found) == {"daily"} and "copy_action" not in found["daily"]
    assert found["daily"]["lifecycle"]["delete_after"] == config.app_volume_retention_days
    [plan_name] = [n for n, p in stage_stack.resources("aws_backup_plan").items() if p["name"].endswith("-app-volumes")]
    [selection] = [
        s
        for s in stage_stack.resources("aws_backup_selection").values()
        if refers_to(s["plan_id"], "aws_backup_plan", plan_name)
    ]
    [resources] = selection["resources"]
    assert resources.endswith(":ec2:eu-west-1:${data.aws_caller_identity.account.account_id}:volume/*")
    [condition] = selection["condition"]
    wanted = {c["key"].removeprefix("aws:ResourceTag/"): c["value"] for c in condition["string_equals"]}
    [template] = stage_stack.resources("aws_launch_template").values()
    [volume_tags] = [t["tags"] for t in template["tag_specifications"] if t["resource_type"] == "volume"]
    assert wanted and wanted.items() <= volume_tags.items()
