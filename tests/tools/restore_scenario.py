"""The restore drill both restore tests run: against a stage the emulator holds (in process, or the dev
stage the sandbox deployed), restore the database to a point in time and switch the app to it, then
restore an object and a prefix of the assets bucket from their versions.

Every call goes through :mod:`tools.restore` with a client factory pointed at the emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tools import restore

#: Where the drill writes its objects.
DRILL_PREFIX = "uploads/listing-1/"
#: Fields of the original instance that a restore must leave exactly as they were.
UNTOUCHED = (
    "DBInstanceIdentifier",
    "DbiResourceId",
    "DBInstanceStatus",
    "Endpoint",
    "DBInstanceClass",
    "MultiAZ",
    "DeletionProtection",
    "VpcSecurityGroups",
    "DBParameterGroups",
    "TagList",
    "BackupRetentionPeriod",
)


@dataclass
class Drill:
    log: list[str] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    database: restore.DatabaseRestore | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    connect_policy: dict[str, Any] | None = None
    objects: list[restore.ObjectRestore] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    error: BaseException | None = None


def untouched(instance: dict[str, Any]) -> dict[str, Any]:
    return {k: instance.get(k) for k in UNTOUCHED}


def run_drill(
    names: restore.StageNames,
    client: Callable[[str], Any],
    drill: Drill | None = None,
    *,
    tls_only_bucket: bool = False,
) -> Drill:
    """The drill; ``drill`` collects what happened as it goes (so a failure keeps what came before it).
    ``tls_only_bucket``: the bucket's policy refuses non-TLS requests (the deployed stack's), which moto
    5.2.5 applies to every object request (see :func:`without_moto_tls_quirk`)."""
    drill = drill if drill is not None else Drill()
    rds, ssm, iam, s3, sts = (client(s) for s in ("rds", "ssm", "iam", "s3", "sts"))
    [instance] = rds.describe_db_instances(DBInstanceIdentifier=names.database)["DBInstances"]
    drill.before = untouched(instance)

    # The database, to a second inside its restore window (half a minute back where it is that long), switched.
    earliest, latest = restore.restore_window(rds, instance)
    moment = latest - timedelta(seconds=30)
    if moment < earliest:
        moment = latest
    started = time.monotonic()
    drill.database = restore.restore_database(
        names, moment, client, switch=True, log=drill.log.append, poll_seconds=1, wait_minutes=5
    )
    drill.seconds["database"] = round(time.monotonic() - started, 2)
    [after] = rds.describe_db_instances(DBInstanceIdentifier=names.database)["DBInstances"]
    drill.after = untouched(after)
    for key in ("endpoint", "reader-endpoints"):
        drill.parameters[key] = ssm.get_parameter(Name=f"{names.parameter_path}/{key}", WithDecryption=True)[
            "Parameter"
        ]["Value"]
    [role] = restore.roles_granted_connect(iam, names)
    drill.connect_policy = iam.get_role_policy(RoleName=role, PolicyName=names.restored_connect_policy)[
        "PolicyDocument"
    ]

    # The assets: three versions of a photo, then a deletion; a second photo only created later.
    bucket = names.assets_bucket(sts.get_caller_identity()["Account"])
    with without_moto_tls_quirk(s3, bucket, active=tls_only_bucket):
        assets_drill(names, client, drill, s3, bucket)
    return drill


def assets_drill(names: restore.StageNames, client: Callable[[str], Any], drill: Drill, s3: Any, bucket: str) -> None:
    photo, late = f"{DRILL_PREFIX}photo.jpg", f"{DRILL_PREFIX}late.jpg"
    s3.put_object(Bucket=bucket, Key=photo, Body=b"first")
    time.sleep(1.1)
    s3.put_object(Bucket=bucket, Key=photo, Body=b"good")
    time.sleep(1.1)
    good_until = datetime.now(UTC)
    time.sleep(1.1)
    s3.put_object(Bucket=bucket, Key=photo, Body=b"corrupted")
    s3.put_object(Bucket=bucket, Key=late, Body=b"late")
    s3.delete_object(Bucket=bucket, Key=photo)
    started = time.monotonic()
    drill.objects = restore.restore_assets(names, good_until, client, prefix=DRILL_PREFIX, log=drill.log.append)
    drill.seconds["assets"] = round(time.monotonic() - started, 2)
    for key in (photo, late):
        drill.contents[key] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    # A single key, by its exact name: already as it was, so nothing to do.
    drill.objects += restore.restore_assets(names, good_until, client, key=photo, log=drill.log.append)


@contextmanager
def without_moto_tls_quirk(s3: Any, bucket: str, *, active: bool) -> Iterator[None]:
    """moto 5.2.5 evaluates a Deny statement whose condition does not hold as a denial (its
    ``IAMPolicyStatement.is_action_permitted`` returns DENIED when the conditions are not met, and S3
    passes it no request context), so the deployed bucket's DenyInsecureTransport statement refuses
    every object request, over TLS or not (tests/tools/test_restore.py shows it). In the emulator only,
    for the drill, the bucket's policy goes without that statement; it is put back after."""
    if not active:
        yield
        return
    original = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    policy = json.loads(original)
    policy["Statement"] = [st for st in policy["Statement"] if st.get("Sid") != "DenyInsecureTransport"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        yield
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=original)


def forget_restored(
    names: restore.StageNames, client: Callable[[str], Any], drill: Drill, *, tls_only_bucket: bool = False
) -> None:
    """Tidy the emulator: the restored instance, the policy and the drill's object versions are not in
    Terraform's state (the tool never deletes anything; the test does, so the sandbox's destroy finds
    only what it made: a bucket that still holds objects cannot be destroyed)."""
    s3, sts = client("s3"), client("sts")
    bucket = names.assets_bucket(sts.get_caller_identity()["Account"])
    with without_moto_tls_quirk(s3, bucket, active=tls_only_bucket):
        for entry in list(restore.versions_under(s3, bucket, DRILL_PREFIX)):
            s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
    iam, rds = client("iam"), client("rds")
    for role in restore.roles_granted_connect(iam, names):
        if names.restored_connect_policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=names.restored_connect_policy)
    for instance in rds.describe_db_instances()["DBInstances"]:
        if instance["DBInstanceIdentifier"].startswith(f"{names.database}-restored-"):
            rds.delete_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"], SkipFinalSnapshot=True)
