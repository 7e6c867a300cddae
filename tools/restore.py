"""``make restore`` / ``make restore-assets``: recover a stage's data to a point in time, with one command.

    python -m tools.restore database --stage prod --time 2026-11-29T10:15:00Z [--switch]
    python -m tools.restore assets --stage prod --time 2026-11-29T10:15:00Z (--prefix uploads/ | --key K) [--dry-run]

**database**: restores the stage's primary database to ``--time`` (UTC; ``latest`` for the latest
restorable time) as a *new* instance ``<stage>-db-restored-<yyyymmddhhmm>``, placed and configured like
the primary (subnet group, security groups, parameter and option groups, class, Multi-AZ, deletion
protection, IAM authentication, log exports, tags: RDS's point-in-time restore would otherwise use the
defaults), waits until it is available and checks it. Then the switch: the database tier's SSM
connection parameters (``endpoint`` and ``reader-endpoints``, which the app reads) are pointed at the
new instance, and every role the database tier lets connect gets ``rds-db:connect`` on the new
instance's app user (IAM database authentication names the instance by its resource id). Without
``--switch`` the exact commands are printed for a human to run after review. The old instance is
never modified, stopped or deleted: it stays for comparison and forensics.

**assets**: restores an object (``--key``) or every object under a prefix (``--prefix``) of the
stage's assets bucket to what it was at ``--time``, from the bucket's versions: the version that was
current then is copied over the key (becoming the current version; every version is kept, so the
restore itself can be undone). Objects that did not exist at ``--time`` are reported and left, unless
``--remove-newer`` (a delete marker: reversible too).

Credentials: the operator's own (the AWS SDK's default chain). ``--endpoint-url`` (or
``DIGITAL_BOOKING_EMULATOR_URL``) sends every call to an emulator instead, with fake keys.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

#: The tier's connection parameters the app reads, and which ones a restore switches.
SWITCHED_PARAMETERS = ("endpoint", "reader-endpoints")
#: RDS identifiers: a letter, then letters, digits and single hyphens, at most 63 characters.
RDS_IDENTIFIER = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")
EMULATOR_VARIABLE = "DIGITAL_BOOKING_EMULATOR_URL"


class RestoreError(RuntimeError):
    """The restore cannot go on; the message says why and what to do."""


# -- names -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageNames:
    """Where a stage's data lives (the names the tiers give it)."""

    stage: str
    region: str

    @property
    def name(self) -> str:
        from stacks.stage_stack import stage_stack_name

        return stage_stack_name(self.stage)

    @property
    def database(self) -> str:
        from modules.database import primary_identifier

        return primary_identifier(self.name)

    @property
    def parameter_path(self) -> str:
        from modules.kit import parameter_path

        return parameter_path(self.name, "database")

    @property
    def connect_policy(self) -> str:
        """The inline policy name of the database tier's ``grant_connect``."""
        return f"{self.name}-read-database-connection"

    @property
    def restored_connect_policy(self) -> str:
        return f"{self.name}-connect-restored-database"

    def assets_bucket(self, account_id: str) -> str:
        from modules.static_assets import assets_bucket_name

        return assets_bucket_name(self.name, account_id)


def stage_names(stage: str) -> StageNames:
    from environments import load_stage

    return StageNames(stage, load_stage(stage).stage.region)


# -- time ------------------------------------------------------------------------------------------


def parse_time(text: str) -> datetime | None:
    """A UTC point in time (``2026-11-29T10:15:00Z``, ``2026-11-29 10:15``; an offset is converted;
    no zone means UTC), or None for ``latest``."""
    if text.strip().lower() == "latest":
        return None
    value = text.strip().replace(" ", "T")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RestoreError(f"not a time: {text!r}; give a UTC time such as 2026-11-29T10:15:00Z, or 'latest'") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- clients ---------------------------------------------------------------------------------------


def clients(region: str, endpoint_url: str | None) -> Callable[[str], Any]:
    """``client("rds")`` etc. for the region: the operator's credentials, or an emulator with fake keys."""
    import boto3  # type: ignore[import-untyped]

    if endpoint_url:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        return lambda service: session.client(service, endpoint_url=endpoint_url)
    session = boto3.session.Session(region_name=region)
    return lambda service: session.client(service)


# -- database --------------------------------------------------------------------------------------


@dataclass
class DatabaseRestore:
    source: str
    target: str
    restore_time: str
    endpoint: str = ""
    resource_id: str = ""
    checks: list[str] = field(default_factory=list)
    switch_commands: list[str] = field(default_factory=list)
    switched: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def restore_window(rds: Any, instance: dict[str, Any]) -> tuple[datetime, datetime]:
    """(earliest, latest) restorable time: RDS's restore window where it reports one, else the backup
    retention back from the latest restorable time (never before the instance existed)."""
    latest = instance.get("LatestRestorableTime")
    if latest is None:
        raise RestoreError(
            f"{instance['DBInstanceIdentifier']} has no LatestRestorableTime: automated backups are off"
            " (backup retention 0) or not yet taken; there is nothing to restore to a point in time"
        )
    earliest = latest - timedelta(days=int(instance.get("BackupRetentionPeriod") or 0))
    created = instance.get("InstanceCreateTime")
    if created is not None:
        earliest = max(earliest, created)
    backups = rds.describe_db_instance_automated_backups(DbiResourceId=instance["DbiResourceId"]).get(
        "DBInstanceAutomatedBackups", []
    )
    for backup in backups:
        window = backup.get("RestoreWindow") or {}
        if window.get("EarliestTime"):
            earliest = window["EarliestTime"]
    return earliest, latest


def restore_parameters(source: dict[str, Any], target: str, moment: datetime | None) -> dict[str, Any]:
    """RestoreDBInstanceToPointInTime's arguments: the source's placement and configuration, which the
    restore would otherwise replace by RDS's defaults ("the default security group, the default subnet
    group, and the default DB parameter group ... a single-AZ deployment")."""
    option_groups = [g["OptionGroupName"] for g in source.get("OptionGroupMemberships", [])]
    parameters: dict[str, Any] = {
        "SourceDBInstanceIdentifier": source["DBInstanceIdentifier"],
        "TargetDBInstanceIdentifier": target,
        "DBInstanceClass": source["DBInstanceClass"],
        "DBSubnetGroupName": source["DBSubnetGroup"]["DBSubnetGroupName"],
        "VpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])],
        "DBParameterGroupName": source["DBParameterGroups"][0]["DBParameterGroupName"],
        "MultiAZ": bool(source.get("MultiAZ")),
        "PubliclyAccessible": False,
        "AutoMinorVersionUpgrade": bool(source.get("AutoMinorVersionUpgrade", True)),
        "CopyTagsToSnapshot": True,
        "DeletionProtection": bool(source.get("DeletionProtection")),
        "EnableIAMDatabaseAuthentication": bool(source.get("IAMDatabaseAuthenticationEnabled")),
        "EnableCloudwatchLogsExports": list(source.get("EnabledCloudwatchLogsExports", [])),
        "Tags": [
            *[t for t in source.get("TagList", []) if not t["Key"].startswith("aws:")],
            {"Key": "restored-from", "Value": source["DBInstanceIdentifier"]},
            {"Key": "restored-to", "Value": stamp(moment) if moment else "latest"},
        ],
    }
    if option_groups and not option_groups[0].startswith("default:"):
        parameters["OptionGroupName"] = option_groups[0]
    for key in ("Port",):
        if source.get("Endpoint", {}).get(key):
            parameters[key] = source["Endpoint"][key]
    for key in ("StorageType", "MaxAllocatedStorage", "CACertificateIdentifier"):
        if source.get(key):
            parameters[key] = source[key]
    if moment is None:
        parameters["UseLatestRestorableTime"] = True
    else:
        parameters["RestoreTime"] = moment
    return parameters


def check_restored(source: dict[str, Any], restored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """What must hold of the new instance before anything is switched to it; raises on the first failure."""
    checks = [
        ("available", restored.get("DBInstanceStatus") == "available"),
        ("has an endpoint", bool(restored.get("Endpoint", {}).get("Address"))),
        ("same engine", restored.get("Engine") == source.get("Engine")),
        (
            "same engine major version",
            str(restored.get("EngineVersion", "")).split(".")[:2]
            == str(source.get("EngineVersion", "")).split(".")[:2],
        ),
        ("encrypted like the source", restored.get("StorageEncrypted") == source.get("StorageEncrypted")),
        ("the source's KMS key", restored.get("KmsKeyId") == source.get("KmsKeyId")),
        ("not publicly accessible", restored.get("PubliclyAccessible") is False),
        (
            "in the source's subnet group",
            restored.get("DBSubnetGroup", {}).get("DBSubnetGroupName") == wanted["DBSubnetGroupName"],
        ),
        (
            "behind the source's security groups",
            sorted(g["VpcSecurityGroupId"] for g in restored.get("VpcSecurityGroups", []))
            == sorted(wanted["VpcSecurityGroupIds"]),
        ),
        ("Multi-AZ as the source", bool(restored.get("MultiAZ")) == wanted["MultiAZ"]),
        ("deletion protection as the source", bool(restored.get("DeletionProtection")) == wanted["DeletionProtection"]),
        (
            "IAM database authentication as the source",
            bool(restored.get("IAMDatabaseAuthenticationEnabled")) == wanted["EnableIAMDatabaseAuthentication"],
        ),
    ]
    failed = [label for label, ok in checks if not ok]
    if failed:
        raise RestoreError(
            f"the restored instance {restored.get('DBInstanceIdentifier')} fails its checks: {', '.join(failed)};"
            " nothing was switched, the old instance is untouched (look at the new one, then delete it by hand)"
        )
    return [label for label, _ in checks]


def target_identifier(source: str, moment: datetime | None, now: datetime) -> str:
    target = f"{source}-restored-{(moment or now).strftime('%Y%m%d%H%M')}"
    if not RDS_IDENTIFIER.match(target):
        raise RestoreError(f"{target!r} is not a valid RDS identifier (63 characters at most)")
    return target


def switch_parameters_commands(
    names: StageNames, current: dict[str, tuple[str, str]], endpoint: str
) -> list[tuple[str, str, str]]:
    """``(name, key id, new value)`` of every parameter the switch writes."""
    return [(current[key][0], current[key][1], endpoint) for key in SWITCHED_PARAMETERS if key in current]


def connect_policy_document(account: str, partition: str, region: str, resource_id: str, user: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ConnectToRestoredDatabase",
                    "Effect": "Allow",
                    "Action": "rds-db:connect",
                    "Resource": f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{user}",
                }
            ],
        }
    )


def roles_granted_connect(iam: Any, names: StageNames) -> list[str]:
    """The roles the database tier's ``grant_connect`` gave its inline policy to."""
    granted = []
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if not role["RoleName"].startswith(f"{names.name}-"):
                continue
            policies = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
            if names.connect_policy in policies:
                granted.append(role["RoleName"])
    return sorted(granted)


def restore_database(
    names: StageNames,
    moment: datetime | None,
    client: Callable[[str], Any],
    *,
    switch: bool,
    log: Callable[[str], None] = print,
    wait_minutes: int = 180,
    poll_seconds: int = 30,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DatabaseRestore:
    rds, ssm, iam, sts = client("rds"), client("ssm"), client("iam"), client("sts")
    started = time.monotonic()
    try:
        [source] = rds.describe_db_instances(DBInstanceIdentifier=names.database)["DBInstances"]
    except Exception as error:  # noqa: BLE001 (botocore's errors are dynamic classes)
        raise RestoreError(f"cannot read the stage's database {names.database} in {names.region}: {error}") from None
    earliest, latest = restore_window(rds, source)
    log(f"==> {names.database}: restorable from {stamp(earliest)} to {stamp(latest)}")
    if moment is not None and not earliest <= moment <= latest:
        raise RestoreError(
            f"{stamp(moment)} is outside the restore window of {names.database}: {stamp(earliest)} to"
            f" {stamp(latest)} (older points: restore a snapshot from the backup vault, see the runbook)"
        )
    target = target_identifier(names.database, moment, now())
    existing = rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [target]}])["DBInstances"]
    if existing:
        raise RestoreError(f"{target} exists already: an earlier restore to the same minute; use or delete it first")
    result = DatabaseRestore(names.database, target, stamp(moment) if moment else f"latest ({stamp(latest)})")
    wanted = restore_parameters(source, target, moment)
    log(f"==> restoring {names.database} to {result.restore_time} as {target} (the source is not modified)")
    rds.restore_db_instance_to_point_in_time(**wanted)
    result.timings["restore requested"] = round(time.monotonic() - started, 1)

    log(f"==> waiting for {target} to be available (up to {wait_minutes} minutes)")
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=target,
        WaiterConfig={"Delay": poll_seconds, "MaxAttempts": max(1, wait_minutes * 60 // poll_seconds)},
    )
    result.timings["available"] = round(time.monotonic() - started, 1)
    [restored] = rds.describe_db_instances(DBInstanceIdentifier=target)["DBInstances"]
    result.checks = check_restored(source, restored, wanted)
    result.endpoint = restored["Endpoint"]["Address"]
    result.resource_id = restored["DbiResourceId"]
    log(f"    checked: {', '.join(result.checks)}")
    log(f"    endpoint: {result.endpoint}")

    # The switch: what the app reads, and its right to connect to the new instance.
    current: dict[str, tuple[str, str]] = {}
    values: dict[str, str] = {}
    for key in (*SWITCHED_PARAMETERS, "user"):
        parameter = f"{names.parameter_path}/{key}"
        described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [parameter]}])["Parameters"]
        if described:
            values[key] = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
            current[key] = (parameter, described[0].get("KeyId", ""))
            log(f"    {parameter} = {values[key]}")
    if "endpoint" not in current or "user" not in current:
        raise RestoreError(f"no connection parameters under {names.parameter_path}: is the stage deployed?")
    app_user = values["user"]
    identity = sts.get_caller_identity()
    account, partition = identity["Account"], identity["Arn"].split(":")[1]
    document = connect_policy_document(account, partition, names.region, result.resource_id, app_user)
    roles = roles_granted_connect(iam, names)
    writes = switch_parameters_commands(names, current, result.endpoint)
    result.switch_commands = [
        f"aws ssm put-parameter --region {names.region} --name {name} --type SecureString --key-id {key}"
        f" --overwrite --value {value}"
        for name, key, value in writes
    ] + [
        f"aws iam put-role-policy --role-name {role} --policy-name {names.restored_connect_policy}"
        f" --policy-document '{document}'"
        for role in roles
    ]
    if switch:
        log("==> switching the app to the restored instance")
        for name, key, value in writes:
            ssm.put_parameter(Name=name, Value=value, Type="SecureString", KeyId=key, Overwrite=True)
            log(f"    {name} -> {value}")
        for role in roles:
            iam.put_role_policy(RoleName=role, PolicyName=names.restored_connect_policy, PolicyDocument=document)
            log(f"    {role}: rds-db:connect as {app_user} on {target}")
        result.switched = True
        result.timings["switched"] = round(time.monotonic() - started, 1)
    else:
        log("==> the switch, for a human to review and run (nothing was switched):")
        for command in result.switch_commands:
            log(f"    {command}")
    [after] = rds.describe_db_instances(DBInstanceIdentifier=names.database)["DBInstances"]
    if after.get("DbiResourceId") != source.get("DbiResourceId") or after.get("Endpoint") != source.get("Endpoint"):
        raise RestoreError(f"{names.database} changed during the restore: investigate before switching anything")
    log(
        f"==> done in {round(time.monotonic() - started)} s. {names.database} is untouched. Next: restart the app"
        " servers so they read the new endpoint (an instance refresh of the Auto Scaling group); before the next"
        " terraform apply, adopt the restored instance (README runbook 'Data corruption'), or that apply puts the"
        " parameters back."
    )
    return result


# -- assets ----------------------------------------------------------------------------------------


@dataclass
class ObjectRestore:
    key: str
    action: str  #: restored, unchanged, newer-left, newer-removed, absent
    version_id: str | None = None


def versions_under(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """Every version and delete marker under ``prefix`` (``IsDeleteMarker`` says which)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            yield {**version, "IsDeleteMarker": False}
        for marker in page.get("DeleteMarkers", []):
            yield {**marker, "IsDeleteMarker": True}


def plan_object(entries: list[dict[str, Any]], moment: datetime) -> tuple[str, dict[str, Any] | None]:
    """What to do with one key: the entry current at ``moment`` against the current one."""
    ordered = sorted(entries, key=lambda e: e["LastModified"])
    current = next((e for e in entries if e.get("IsLatest")), ordered[-1])
    then = [e for e in ordered if e["LastModified"] <= moment]
    at_moment = then[-1] if then else None
    if at_moment is None or at_moment["IsDeleteMarker"]:
        return ("absent" if current["IsDeleteMarker"] else "newer", None)
    same_bytes = (
        not current["IsDeleteMarker"]
        and current.get("ETag") is not None
        and (current.get("ETag"), current.get("Size")) == (at_moment.get("ETag"), at_moment.get("Size"))
    )
    if current["VersionId"] == at_moment["VersionId"] or same_bytes:
        # The same version, or a copy of it (an earlier restore): nothing to do.
        return ("unchanged", at_moment)
    return ("restore", at_moment)


def restore_assets(
    names: StageNames,
    moment: datetime,
    client: Callable[[str], Any],
    *,
    prefix: str | None = None,
    key: str | None = None,
    dry_run: bool = False,
    remove_newer: bool = False,
    log: Callable[[str], None] = print,
) -> list[ObjectRestore]:
    if (prefix is None) == (key is None):
        raise RestoreError("give exactly one of --prefix or --key")
    s3, sts = client("s3"), client("sts")
    bucket = names.assets_bucket(sts.get_caller_identity()["Account"])
    started = time.monotonic()
    by_key: dict[str, list[dict[str, Any]]] = {}
    for entry in versions_under(s3, bucket, key if key is not None else prefix or ""):
        if key is None or entry["Key"] == key:
            by_key.setdefault(entry["Key"], []).append(entry)
    if not by_key:
        raise RestoreError(f"no versions of {key or prefix!r} in {bucket}")
    log(
        f"==> {bucket}: {len(by_key)} key(s) under {key or prefix!r}, as of {stamp(moment)}"
        + (" (dry run)" if dry_run else "")
    )
    results = []
    for object_key in sorted(by_key):
        what, version = plan_object(by_key[object_key], moment)
        if what == "restore" and version is not None:
            if not dry_run:
                source = {"Bucket": bucket, "Key": object_key, "VersionId": version["VersionId"]}
                if int(version.get("Size", 0)) <= 5 * 1024**3:
                    s3.copy_object(Bucket=bucket, Key=object_key, CopySource=source)
                else:  # above 5 GiB a copy is multipart
                    s3.copy(source, bucket, object_key)
            results.append(ObjectRestore(object_key, "restored", version["VersionId"]))
        elif what == "newer" and remove_newer:
            if not dry_run:
                s3.delete_object(Bucket=bucket, Key=object_key)  # a delete marker: reversible
            results.append(ObjectRestore(object_key, "newer-removed"))
        elif what == "newer":
            results.append(ObjectRestore(object_key, "newer-left"))
        else:
            results.append(ObjectRestore(object_key, what, version["VersionId"] if version else None))
        log(
            f"    {results[-1].action:>13}  {object_key}"
            + (f" <- {results[-1].version_id}" if results[-1].version_id else "")
        )
    counts = {a: sum(1 for r in results if r.action == a) for a in sorted({r.action for r in results})}
    log(f"==> {', '.join(f'{n} {a}' for a, n in counts.items())} in {round(time.monotonic() - started, 1)} s")
    return results


# -- command line ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="restore a stage's database or assets to a point in time")
    parser.add_argument("what", choices=("database", "assets"))
    parser.add_argument("--stage", required=True)
    parser.add_argument("--time", required=True, help="UTC, e.g. 2026-11-29T10:15:00Z; 'latest' (database only)")
    parser.add_argument("--switch", action="store_true", help="database: switch the app to the restored instance")
    parser.add_argument("--wait-minutes", type=int, default=180)
    parser.add_argument("--prefix")
    parser.add_argument("--key")
    parser.add_argument("--dry-run", action="store_true", help="assets: say what would be restored, change nothing")
    parser.add_argument("--remove-newer", action="store_true", help="assets: hide objects created after --time")
    parser.add_argument("--endpoint-url", default=os.environ.get(EMULATOR_VARIABLE) or None)
    args = parser.parse_args(argv)
    try:
        names = stage_names(args.stage)
        client = clients(names.region, args.endpoint_url)
        moment = parse_time(args.time)
        if args.what == "database":
            restore_database(names, moment, client, switch=args.switch, wait_minutes=args.wait_minutes)
        else:
            if moment is None:
                raise RestoreError("assets need a point in time, not 'latest'")
            restore_assets(
                names,
                moment,
                client,
                prefix=args.prefix,
                key=args.key,
                dry_run=args.dry_run,
                remove_newer=args.remove_newer,
            )
    except RestoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
