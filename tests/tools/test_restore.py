"""``make restore`` (tools/restore.py): the database to a point in time as a new instance, checked, and the
app switched to it; objects of the assets bucket from their versions. Run against the emulator: in
process for the fast tests, and on the dev stage the sandbox deployed (tests/tools/conftest.py).

RDS API RestoreDBInstanceToPointInTime: "You can restore to any point in time before the time identified by
the LatestRestorableTime property ... up to the number of days specified by the BackupRetentionPeriod"; the
target is created "with the default security group, the default subnet group, and the default DB parameter
group ... as a single-AZ deployment" unless told otherwise. S3 User Guide, "Restoring previous versions":
"Copy a previous version of the object into the same bucket. The copied object becomes the current version
of that object and all object versions are preserved.\""""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.tools import restore_scenario
from tools import restore

PROJECT_DIR = Path(__file__).resolve().parents[2]
NAMES = restore.StageNames("dev", "eu-west-1")


# -- pieces ------------------------------------------------------------------------------------------


def test_times_are_utc():
    assert restore.parse_time("2026-11-29T10:15:00Z") == datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
    assert restore.parse_time("2026-11-29 10:15") == datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
    assert restore.parse_time("2026-11-29T12:15:00+02:00") == datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
    assert restore.parse_time("latest") is None
    with pytest.raises(restore.RestoreError, match="not a time"):
        restore.parse_time("yesterday")


def test_the_names_are_the_tiers_own():
    assert NAMES.database == "digital-booking-dev-db"
    assert NAMES.parameter_path == "/digital-booking/digital-booking-dev/database"
    assert NAMES.assets_bucket("123456789012") == "digital-booking-dev-assets-123456789012"


def test_the_restored_identifier_is_a_valid_new_name():
    moment = datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
    assert restore.target_identifier("digital-booking-prod-db", moment, moment) == (
        "digital-booking-prod-db-restored-202611291015"
    )
    with pytest.raises(restore.RestoreError, match="not a valid RDS identifier"):
        restore.target_identifier("x" * 50, moment, moment)


def source_instance() -> dict:
    return {
        "DBInstanceIdentifier": "digital-booking-prod-db",
        "DBInstanceClass": "db.r7g.large",
        "DBSubnetGroup": {"DBSubnetGroupName": "digital-booking-prod-db"},
        "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-0db"}],
        "DBParameterGroups": [{"DBParameterGroupName": "digital-booking-prod-mysql-1"}],
        "OptionGroupMemberships": [{"OptionGroupName": "digital-booking-prod-mysql-audit-1"}],
        "MultiAZ": True,
        "DeletionProtection": True,
        "IAMDatabaseAuthenticationEnabled": True,
        "EnabledCloudwatchLogsExports": ["error", "audit"],
        "Endpoint": {"Address": "old.example", "Port": 3306},
        "StorageType": "gp3",
        "MaxAllocatedStorage": 1000,
        "TagList": [{"Key": "stage", "Value": "prod"}, {"Key": "aws:cloudformation:x", "Value": "y"}],
    }


def test_a_restore_keeps_the_sources_placement_and_protections():
    """Without them RDS restores into the default VPC's security group and subnet group, the default
    parameter group, single-AZ (the API page above)."""
    moment = datetime(2026, 11, 29, 10, 15, tzinfo=UTC)
    parameters = restore.restore_parameters(source_instance(), "target", moment)
    assert parameters["DBSubnetGroupName"] == "digital-booking-prod-db"
    assert parameters["VpcSecurityGroupIds"] == ["sg-0db"]
    assert parameters["DBParameterGroupName"] == "digital-booking-prod-mysql-1"
    assert parameters["OptionGroupName"] == "digital-booking-prod-mysql-audit-1"
    assert parameters["MultiAZ"] is True and parameters["DeletionProtection"] is True
    assert parameters["PubliclyAccessible"] is False and parameters["EnableIAMDatabaseAuthentication"] is True
    assert parameters["RestoreTime"] == moment and "UseLatestRestorableTime" not in parameters
    assert {"Key": "restored-to", "Value": "2026-11-29T10:15:00Z"} in parameters["Tags"]
    assert not [t for t in parameters["Tags"] if t["Key"].startswith("aws:")]  # AWS refuses aws: tags
    latest = restore.restore_parameters(source_instance(), "target", None)
    assert latest["UseLatestRestorableTime"] is True and "RestoreTime" not in latest


def test_a_restored_instance_that_differs_from_its_source_is_not_switched_to():
    source = {
        **source_instance(),
        "Engine": "mysql",
        "EngineVersion": "8.4.3",
        "StorageEncrypted": True,
        "KmsKeyId": "k",
    }
    wanted = restore.restore_parameters(source, "t", None)
    restored = {
        **source,
        "DBInstanceIdentifier": "t",
        "DBInstanceStatus": "available",
        "PubliclyAccessible": False,
        "Endpoint": {"Address": "new.example"},
    }
    assert "same engine" in restore.check_restored(source, restored, wanted)
    with pytest.raises(restore.RestoreError, match="behind the source's security groups"):
        restore.check_restored(
            source, {**restored, "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-default"}]}, wanted
        )
    with pytest.raises(restore.RestoreError, match="not publicly accessible"):
        restore.check_restored(source, {**restored, "PubliclyAccessible": True}, wanted)


def version(key: str, version_id: str, minute: int, *, deleted: bool = False, latest: bool = False) -> dict:
    return {
        "Key": key,
        "VersionId": version_id,
        "LastModified": datetime(2026, 11, 29, 10, minute, tzinfo=UTC),
        "IsDeleteMarker": deleted,
        "IsLatest": latest,
        "Size": 1,
    }


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([version("k", "a", 1), version("k", "b", 20, latest=True)], ("restore", "a")),
        ([version("k", "a", 1, latest=True)], ("unchanged", "a")),
        ([version("k", "a", 1), version("k", "m", 20, deleted=True, latest=True)], ("restore", "a")),
        ([version("k", "b", 20, latest=True)], ("newer", None)),
        (
            [version("k", "a", 1), version("k", "m", 5, deleted=True), version("k", "c", 20, latest=True)],
            ("newer", None),
        ),
        ([version("k", "a", 1), version("k", "m", 5, deleted=True, latest=True)], ("absent", None)),
        # A copy of the version of ten past (an earlier restore): the same bytes, nothing to do.
        (
            [{**version("k", "a", 1), "ETag": '"e1"'}, {**version("k", "b", 30, latest=True), "ETag": '"e1"'}],
            ("unchanged", "a"),
        ),
    ],
)
def test_what_a_key_needs_to_be_as_it_was_at_ten_past_ten(entries, expected):
    action, chosen = restore.plan_object(entries, datetime(2026, 11, 29, 10, 10, tzinfo=UTC))
    assert (action, chosen["VersionId"] if chosen else None) == expected


def test_the_make_targets_run_the_tool():
    """``make restore`` / ``make restore-assets`` (dry run: -n prints the command)."""
    made = subprocess.run(
        ["make", "-n", "restore", "STAGE=prod", "TIME=2026-11-29T10:15:00Z", "SWITCH=yes"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    made = " ".join(made.split())
    assert "-m tools.restore database --stage prod --time 2026-11-29T10:15:00Z --switch" in made
    made = subprocess.run(
        ["make", "-n", "restore-assets", "STAGE=prod", "TIME=2026-11-29T10:15:00Z", "PREFIX=uploads/"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    made = " ".join(made.split())
    assert "-m tools.restore assets --stage prod --time 2026-11-29T10:15:00Z --prefix uploads/" in made


def test_without_a_stage_or_time_the_tool_refuses(capsys):
    assert restore.main(["database", "--stage", "dev", "--time", "whenever"]) == 2
    assert "not a time" in capsys.readouterr().err


# -- the drill, in process ---------------------------------------------------------------------------


def deploy_like_dev(names: restore.StageNames) -> None:
    """What the restore reads of a deployed stage, made through the same APIs the stack's resources use."""
    session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name=names.region)
    ec2, rds, ssm, iam, kms, s3 = (session.client(s) for s in ("ec2", "rds", "ssm", "iam", "kms", "s3"))
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.2{i}.0/24", AvailabilityZone=f"eu-west-1{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in ((0, "a"), (1, "b"))
    ]
    group = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    rds.create_db_subnet_group(DBSubnetGroupName=names.database, DBSubnetGroupDescription="d", SubnetIds=subnets)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    rds.create_db_instance(
        DBInstanceIdentifier=names.database,
        DBInstanceClass="db.t4g.micro",
        Engine="mysql",
        EngineVersion="8.4.3",
        AllocatedStorage=20,
        MasterUsername="booking_admin",
        ManageMasterUserPassword=True,
        DBSubnetGroupName=names.database,
        VpcSecurityGroupIds=[group],
        StorageEncrypted=True,
        KmsKeyId=key,
        BackupRetentionPeriod=1,
        EnableIAMDatabaseAuthentication=True,
        PubliclyAccessible=False,
        Tags=[{"Key": "stage", "Value": "dev"}],
    )
    for name, value in (("endpoint", "old"), ("reader-endpoints", "none"), ("user", "booking_app")):
        ssm.put_parameter(Name=f"{names.parameter_path}/{name}", Value=value, Type="SecureString", KeyId=key)
    trust = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    )
    iam.create_role(RoleName=f"{names.name}-app-instance", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName=f"{names.name}-other", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(
        RoleName=f"{names.name}-app-instance",
        PolicyName=names.connect_policy,
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*"}]}
        ),
    )
    bucket = names.assets_bucket("123456789012")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": names.region})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


@pytest.fixture
def in_process_drill():
    with mock_aws():
        deploy_like_dev(NAMES)
        session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name=NAMES.region)
        yield restore_scenario.run_drill(NAMES, session.client)


def check_drill(drill: restore_scenario.Drill) -> None:
    """What every run of the drill must show."""
    assert drill.error is None, repr(drill.error)
    result = drill.database
    assert result is not None and result.switched
    assert result.target.startswith("digital-booking-dev-db-restored-") and result.target != result.source
    # The original database is untouched: same instance, endpoint, configuration, tags.
    assert drill.after == drill.before
    # The app reads the restored instance now, and may log in to it as its user.
    assert drill.parameters == {"endpoint": result.endpoint, "reader-endpoints": result.endpoint}
    assert result.endpoint and result.endpoint != drill.before["Endpoint"]["Address"]
    [statement] = drill.connect_policy["Statement"]
    assert statement["Action"] == "rds-db:connect"
    assert statement["Resource"].endswith(f":dbuser:{result.resource_id}/booking_app")
    assert {"subnet group", "security groups", "KMS key"} <= {
        word for check in result.checks for word in ("subnet group", "security groups", "KMS key") if word in check
    }
    # The assets: the photo is back as it was (after a later overwrite and a deletion), the later one left.
    assert drill.contents == {"uploads/listing-1/photo.jpg": b"good", "uploads/listing-1/late.jpg": b"late"}
    actions = [(o.key.rsplit("/", 1)[1], o.action) for o in drill.objects]
    assert actions == [("late.jpg", "newer-left"), ("photo.jpg", "restored"), ("photo.jpg", "unchanged")]


@pytest.mark.slow  # seconds of the in-process emulator: `make test-pr`, not the edit loop
def test_the_drill_in_process(in_process_drill):
    check_drill(in_process_drill)


# -- the drill on the stage the sandbox deployed -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.emulator
def test_make_restore_on_the_dev_stage_the_sandbox_deployed(dev_sandbox):
    """The same drill on dev as terraform built it in the emulator (real terraform and provider): the
    database restored beside the original, checked, switched; the assets bucket's objects restored."""
    assert dev_sandbox.drill is not None, "\n".join(dev_sandbox.log)
    check_drill(dev_sandbox.drill)
    assert dev_sandbox.report.timings.get("exercise") is not None
    print(f"restore drill timings: {dev_sandbox.drill.seconds}, sandbox: {dev_sandbox.report.timings}", file=sys.stderr)
    assert "untouched" in "\n".join(dev_sandbox.drill.log)


def test_the_emulator_refuses_object_requests_to_a_bucket_with_any_conditional_deny():
    """Why the sandbox drill lifts the bucket's TLS-only statement (restore_scenario.without_moto_tls_quirk):
    moto 5.2.5 refuses a PutObject even when the Deny statement's condition cannot hold (here a VPC
    endpoint no request comes through), which AWS would not."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
        s3.create_bucket(Bucket="quirk-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="quirk-bucket", Key="k", Body=b"x")
        deny = {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::quirk-bucket/*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0000000000000000"}},
        }
        s3.put_bucket_policy(Bucket="quirk-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
        with pytest.raises(ClientError, match="Forbidden"):
            s3.put_object(Bucket="quirk-bucket", Key="k", Body=b"x")


@pytest.mark.slow  # seconds of the in-process emulator: `make test-pr`, not the edit loop
def test_the_restore_window_bounds_the_time():
    """A time outside the window is refused before anything is restored."""
    with mock_aws():
        deploy_like_dev(NAMES)
        session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name=NAMES.region)
        old = datetime.now(UTC) - timedelta(days=3)
        with pytest.raises(restore.RestoreError, match="outside the restore window"):
            restore.restore_database(NAMES, old, session.client, switch=False, log=lambda _: None)
        rds = session.client("rds")
        assert [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]] == [NAMES.database]


@pytest.mark.slow  # seconds of the in-process emulator: `make test-pr`, not the edit loop
def test_without_switch_the_switch_is_printed_not_made():
    with mock_aws():
        deploy_like_dev(NAMES)
        session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name=NAMES.region)
        lines: list[str] = []
        result = restore.restore_database(NAMES, None, session.client, switch=False, log=lines.append, poll_seconds=1)
        assert not result.switched
        ssm = session.client("ssm")
        assert (
            ssm.get_parameter(Name=f"{NAMES.parameter_path}/endpoint", WithDecryption=True)["Parameter"]["Value"]
            == "old"
        )
        commands = "\n".join(result.switch_commands)
        assert f"aws ssm put-parameter --region eu-west-1 --name {NAMES.parameter_path}/endpoint" in commands
        assert f"--value {result.endpoint}" in commands and "--overwrite" in commands
        assert f"aws iam put-role-policy --role-name {NAMES.name}-app-instance" in commands
        assert f"{NAMES.name}-other" not in commands  # only the roles the database tier granted connect
        assert "nothing was switched" in "\n".join(lines)
