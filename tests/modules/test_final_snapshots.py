"""Final snapshots survive a stage deleted twice: each lifetime of the database and the cache leaves
one under a name of its own (modules/kit.py ``final_snapshot_name``), and later plans stay empty.

A fixed ``<identifier>-final`` works once: deleting the re-created stage asks for a snapshot name
the first delete already took, and the delete fails (RDS ``DBSnapshotAlreadyExists``, ElastiCache
``SnapshotAlreadyExistsFault``), leaving the stage half destroyed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.modules.test_cache import group
from tests.modules.test_database import primary
from tools import emulator

#: A creation time as the name's ``formatdate("YYYYMMDDhhmmss", timestamp())`` renders it.
CREATED = "20250501120000"
TIME_OF_CREATION = re.compile(r"\$\{formatdate\(\"YYYYMMDDhhmmss\", ?timestamp\(\)\)\}")
#: DeleteDBInstance FinalDBSnapshotIdentifier: "Must be 1 to 255 letters or numbers. First character
#: must be a letter. Can't end with a hyphen or contain two consecutive hyphens."
RDS_SNAPSHOT_NAME = re.compile(r"^(?!.*--)[A-Za-z][A-Za-z0-9-]{0,254}(?<!-)$")


def rendered(expression: str) -> str:
    """The name as created at :data:`CREATED`; fails if the time of creation is not in it."""
    name, count = TIME_OF_CREATION.subn(CREATED, expression)
    assert count == 1 and "${" not in name, expression
    return name


def test_the_database_names_its_final_snapshot_by_its_creation_time(stage_stack):
    """AWS API reference, DeleteDBInstance (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/
    API_DeleteDBInstance.html): FinalDBSnapshotIdentifier's constraints (:data:`RDS_SNAPSHOT_NAME`), and
    DBSnapshotAlreadyExists "DBSnapshotIdentifier is already used by an existing snapshot". The name is
    fixed at create (ignore_changes); :func:`test_a_stage_deleted_twice_leaves_two_final_snapshots`
    runs it."""
    db = primary(stage_stack)
    assert db["skip_final_snapshot"] is False
    name = rendered(db["final_snapshot_identifier"])
    assert name == f"{db['identifier']}-final-{CREATED}" and RDS_SNAPSHOT_NAME.match(name)
    assert "final_snapshot_identifier" in db["lifecycle"]["ignore_changes"]


def test_the_cache_names_its_final_snapshot_by_its_creation_time(stage_stack):
    """AWS API reference, DeleteReplicationGroup (https://docs.aws.amazon.com/AmazonElastiCache/latest/
    APIReference/API_DeleteReplicationGroup.html): FinalSnapshotIdentifier names the snapshot taken
    before the group is deleted; SnapshotAlreadyExistsFault "You already have a snapshot with the given
    name."

    Checked in the synthesized JSON only: moto 5.2.5, the project's emulator, never finishes deleting
    a replication group (DeleteReplicationGroup leaves it "deleting" for good, so terraform destroy
    waits forever) and ignores FinalSnapshotIdentifier (it takes no snapshot, so no name could
    collide); it also lacks the cache's parameter and user groups (tools/sandbox.py ``UNSUPPORTED``).
    The expression is the database's (modules/kit.py), which the slow test below runs."""
    g = group(stage_stack)
    if "final_snapshot_identifier" not in g:  # a stage keeping no snapshots keeps no final one either
        assert g["snapshot_retention_limit"] == 0
        return
    name = rendered(g["final_snapshot_identifier"])
    assert name == f"{g['replication_group_id']}-final-{CREATED}" and RDS_SNAPSHOT_NAME.match(name)
    assert "final_snapshot_identifier" in g["lifecycle"]["ignore_changes"]


# -- run: apply, destroy, apply, destroy in the emulator ---------------------------------------------


@pytest.fixture(scope="module")
def moto():
    with emulator.MotoServer() as server:
        yield server


def rds(moto: emulator.MotoServer):
    import boto3

    return boto3.client(
        "rds",
        endpoint_url=moto.url,
        region_name="eu-west-1",
        aws_access_key_id=emulator.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=emulator.FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def minimal_root(work: Path, instance: dict, endpoint: str) -> Path:
    """One ``aws_db_instance`` with the stage's identifier, final-snapshot settings and lifecycle, the
    rest as small as RDS allows; the real provider sent to the emulator (tools/emulator.py)."""
    work.mkdir(parents=True)
    document = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
        "provider": {"aws": {"region": "eu-west-1"}},
        "resource": {
            "aws_db_instance": {
                "primary": {
                    "identifier": instance["identifier"],
                    "engine": "mysql",
                    "engine_version": "8.0",
                    "instance_class": "db.t3.micro",
                    "allocated_storage": 20,
                    "username": "booking_admin",
                    "manage_master_user_password": True,
                    "skip_final_snapshot": instance["skip_final_snapshot"],
                    "final_snapshot_identifier": instance["final_snapshot_identifier"],
                    "lifecycle": {"ignore_changes": instance.get("lifecycle", {}).get("ignore_changes", [])},
                }
            }
        },
    }
    (work / "main.tf.json").write_text(json.dumps(document, indent=2))
    emulator.write_override(work, endpoint, state_path=work / "terraform.tfstate")
    return work


@pytest.mark.slow
@pytest.mark.emulator
def test_moto_refuses_a_final_snapshot_name_that_is_taken(moto):
    """What makes the test below able to fail: moto 5.2.5 answers a second DeleteDBInstance with a final
    snapshot name already taken as RDS does, DBSnapshotAlreadyExists (API_DeleteDBInstance.html)."""
    from botocore.exceptions import ClientError

    client = rds(moto)
    for attempt in (1, 2):
        client.create_db_instance(
            DBInstanceIdentifier="probe-db",
            Engine="mysql",
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="probe",
            ManageMasterUserPassword=True,
        )
        if attempt == 1:
            client.delete_db_instance(DBInstanceIdentifier="probe-db", FinalDBSnapshotIdentifier="probe-db-final")
    with pytest.raises(ClientError, match="DBSnapshotAlreadyExists"):
        client.delete_db_instance(DBInstanceIdentifier="probe-db", FinalDBSnapshotIdentifier="probe-db-final")
    client.delete_db_instance(DBInstanceIdentifier="probe-db", SkipFinalSnapshot=True)
    client.delete_db_snapshot(DBSnapshotIdentifier="probe-db-final")


@pytest.mark.slow
@pytest.mark.emulator
def test_a_stage_deleted_twice_leaves_two_final_snapshots(moto, dev, tmp_path):
    """The dev database's final-snapshot settings (identifier, expression, lifecycle) in a minimal root
    (dev: prod's deletion protection would refuse the destroy),
    run with the real terraform and aws provider against moto: apply, plan (empty: the name is fixed
    at create), destroy, apply, plan, destroy. Both destroys succeed (a taken name would fail the second
    with DBSnapshotAlreadyExists, as the test above shows moto does) and leave one final snapshot each.
    AWS API reference, DeleteDBInstance (API_DeleteDBInstance.html)."""
    instance = primary(dev)
    work = minimal_root(tmp_path / "root", instance, moto.url)
    emulator.init(work, moto.url)
    for lifetime in (1, 2):
        emulator.apply(work, moto.url)
        replanned = emulator.plan(work, moto.url)
        assert replanned.returncode == 0, f"lifetime {lifetime}: a plan after apply wants changes:\n{replanned.stdout}"
        destroyed = emulator.destroy(work, moto.url, check=False)
        assert destroyed.returncode == 0, f"lifetime {lifetime}: destroy failed:\n{destroyed.stderr[-3000:]}"
    snapshots = rds(moto).describe_db_snapshots(DBInstanceIdentifier=instance["identifier"], SnapshotType="manual")
    names = sorted(s["DBSnapshotIdentifier"] for s in snapshots["DBSnapshots"])
    assert len(names) == 2 and len(set(names)) == 2, names
    assert all(re.fullmatch(rf"{instance['identifier']}-final-\d{{14}}", name) for name in names), names
