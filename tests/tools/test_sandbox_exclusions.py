"""Every resource the sandbox leaves out (``tools.sandbox.UNSUPPORTED``) is still one moto cannot do.

One probe per entry calls the API the provider calls, against moto in this process (offline,
``moto.mock_aws``: the same backends the sandbox's moto server runs), and asserts it still
fails the way the entry's reason says. The day moto learns the API, the probe fails: remove the
entry, and the resource is back in the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from tools import emulator, sandbox

REGION = "eu-west-1"


@pytest.fixture
def aws() -> Iterator[Callable[[str], Any]]:
    with mock_aws():
        yield lambda service: boto3.client(
            service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )


def _not_implemented(call: Callable[[], Any]) -> None:
    """moto's server answers HTTP 500 for an action it has no handler for; in-process it raises this."""
    with pytest.raises(NotImplementedError, match="has not been implemented"):
        call()


def replication_group_members_unknown(aws: Callable[[str], Any]) -> None:
    elasticache = aws("elasticache")
    group = elasticache.create_replication_group(
        ReplicationGroupId="booking",
        ReplicationGroupDescription="probe",
        Engine="redis",
        CacheNodeType="cache.t4g.micro",
        NumCacheClusters=1,
    )["ReplicationGroup"]
    (member,) = group["MemberClusters"]
    with pytest.raises(botocore.exceptions.ClientError, match="CacheClusterNotFound"):
        elasticache.describe_cache_clusters(CacheClusterId=member, ShowCacheNodeInfo=True)


def parameter_group_not_implemented(aws: Callable[[str], Any]) -> None:
    _not_implemented(
        lambda: aws("elasticache").create_cache_parameter_group(
            CacheParameterGroupName="booking", CacheParameterGroupFamily="redis7", Description="probe"
        )
    )


def user_group_not_implemented(aws: Callable[[str], Any]) -> None:
    _not_implemented(lambda: aws("elasticache").create_user_group(UserGroupId="booking", Engine="redis"))


def subnet_group_delete_not_implemented(aws: Callable[[str], Any]) -> None:
    ec2, elasticache = aws("ec2"), aws("elasticache")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    elasticache.create_cache_subnet_group(
        CacheSubnetGroupName="booking", CacheSubnetGroupDescription="probe", SubnetIds=[subnet]
    )  # creating works...
    _not_implemented(lambda: elasticache.delete_cache_subnet_group(CacheSubnetGroupName="booking"))


def bucket_logging_fails_on_a_principal_star_policy(aws: Callable[[str], Any]) -> None:
    s3 = aws("s3")
    for bucket in ("probe-source", "probe-logs"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    grant = {
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::probe-logs/*",
    }
    deny_insecure = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::probe-logs/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    logging = {"LoggingEnabled": {"TargetBucket": "probe-logs", "TargetPrefix": "source/"}}

    def target_policy(*statements: dict) -> None:
        s3.put_bucket_policy(Bucket="probe-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))

    target_policy(grant)
    s3.put_bucket_logging(Bucket="probe-source", BucketLoggingStatus=logging)  # the grant alone: works
    target_policy(deny_insecure, grant)  # as the stacks write it: the TLS statement first
    with pytest.raises(AttributeError):  # moto's server turns this into HTTP 500
        s3.put_bucket_logging(Bucket="probe-source", BucketLoggingStatus=logging)


def response_headers_policy_not_found(aws: Callable[[str], Any]) -> None:
    config = {"Name": "probe", "SecurityHeadersConfig": {"ContentTypeOptions": {"Override": True}}}
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        aws("cloudfront").create_response_headers_policy(ResponseHeadersPolicyConfig=config)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def replica_shares_its_source_resource_id(aws: Callable[[str], Any]) -> None:
    rds = aws("rds")
    primary = rds.create_db_instance(
        DBInstanceIdentifier="booking",
        Engine="mysql",
        DBInstanceClass="db.t4g.micro",
        MasterUsername="admin",
        MasterUserPassword="probe-password-only",
        AllocatedStorage=20,
        BackupRetentionPeriod=1,
    )["DBInstance"]
    replica = rds.create_db_instance_read_replica(
        DBInstanceIdentifier="booking-replica", SourceDBInstanceIdentifier="booking"
    )["DBInstance"]
    assert replica["DbiResourceId"] == primary["DbiResourceId"]
    # what the provider's finder asks: exactly one instance per resource id
    found = rds.describe_db_instances(Filters=[{"Name": "dbi-resource-id", "Values": [replica["DbiResourceId"]]}])
    assert len(found["DBInstances"]) == 2


def option_group_knows_no_mysql_8_4(aws: Callable[[str], Any]) -> None:
    rds = aws("rds")
    rds.create_option_group(
        OptionGroupName="booking-80", EngineName="mysql", MajorEngineVersion="8.0", OptionGroupDescription="probe"
    )  # 8.0 works...
    with pytest.raises(botocore.exceptions.ClientError, match="Cannot find major version 8.4 for mysql"):
        rds.create_option_group(
            OptionGroupName="booking-84", EngineName="mysql", MajorEngineVersion="8.4", OptionGroupDescription="probe"
        )


def backup_selection_not_implemented(aws: Callable[[str], Any]) -> None:
    backup = aws("backup")
    backup.create_backup_vault(BackupVaultName="booking")
    plan = backup.create_backup_plan(
        BackupPlan={"BackupPlanName": "booking", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "booking"}]}
    )  # vault and plan work...
    selection = {"SelectionName": "tagged", "IamRoleArn": f"arn:aws:iam::{emulator.ACCOUNT_ID}:role/backup"}
    _not_implemented(
        lambda: backup.create_backup_selection(BackupPlanId=plan["BackupPlanId"], BackupSelection=selection)
    )


def restore_testing_plan_not_found(aws: Callable[[str], Any]) -> None:
    plan = {
        "RestoreTestingPlanName": "booking",
        "ScheduleExpression": "cron(0 5 ? * SAT *)",
        "RecoveryPointSelection": {
            "Algorithm": "LATEST_WITHIN_WINDOW",
            "IncludeVaults": ["*"],
            "RecoveryPointTypes": ["SNAPSHOT"],
        },
    }
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        aws("backup").create_restore_testing_plan(RestoreTestingPlan=plan)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def automated_backups_replication_not_implemented(aws: Callable[[str], Any]) -> None:
    aws("rds").create_db_instance(
        DBInstanceIdentifier="booking",
        Engine="mysql",
        DBInstanceClass="db.t4g.micro",
        MasterUsername="admin",
        MasterUserPassword="probe-password-only",
        AllocatedStorage=20,
        BackupRetentionPeriod=1,
    )
    _not_implemented(
        lambda: aws("rds").start_db_instance_automated_backups_replication(
            SourceDBInstanceArn=f"arn:aws:rds:{REGION}:{emulator.ACCOUNT_ID}:db:booking", BackupRetentionPeriod=7
        )
    )


def origin_group_target_refused(aws: Callable[[str], Any]) -> None:
    def origin(name: str) -> dict[str, Any]:
        return {"Id": name, "DomainName": f"{name}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}

    group = {
        "Id": "with-failover",
        "FailoverCriteria": {"StatusCodes": {"Quantity": 1, "Items": [500]}},
        "Members": {"Quantity": 2, "Items": [{"OriginId": "primary"}, {"OriginId": "replica"}]},
    }
    config = {
        "CallerReference": "probe",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 2, "Items": [origin("primary"), origin("replica")]},
        "OriginGroups": {"Quantity": 1, "Items": [group]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "with-failover",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }
    cloudfront = aws("cloudfront")
    with pytest.raises(botocore.exceptions.ClientError, match="NoSuchOrigin"):
        cloudfront.create_distribution(DistributionConfig=config)
    primary = {**config["DefaultCacheBehavior"], "TargetOriginId": "primary"}  # what the sandbox sends instead
    cloudfront.create_distribution(
        DistributionConfig={**config, "CallerReference": "adapted", "DefaultCacheBehavior": primary}
    )


PROBES: dict[str, Callable[[Callable[[str], Any]], None]] = {
    "aws_elasticache_replication_group": replication_group_members_unknown,
    "aws_elasticache_parameter_group": parameter_group_not_implemented,
    "aws_elasticache_user_group": user_group_not_implemented,
    "aws_elasticache_subnet_group": subnet_group_delete_not_implemented,
    "aws_db_option_group": option_group_knows_no_mysql_8_4,
    "aws_backup_selection": backup_selection_not_implemented,
    "aws_backup_restore_testing_plan": restore_testing_plan_not_found,
    "aws_db_instance_automated_backups_replication": automated_backups_replication_not_implemented,
    "aws_s3_bucket_logging": bucket_logging_fails_on_a_principal_star_policy,
    "aws_cloudfront_response_headers_policy": response_headers_policy_not_found,
    "aws_db_instance[replicate_source_db]": replica_shares_its_source_resource_id,
}


#: The same for what the sandbox adapts instead of leaving out (``tools.sandbox.ADAPTED``).
ADAPTED_PROBES: dict[str, Callable[[Callable[[str], Any]], None]] = {
    "aws_cloudfront_distribution": origin_group_target_refused,
}


def test_every_left_out_entry_has_a_probe() -> None:
    assert set(PROBES) == set(sandbox.UNSUPPORTED)
    assert set(ADAPTED_PROBES) == set(sandbox.ADAPTED)


@pytest.mark.parametrize("entry", sorted(ADAPTED_PROBES))
def test_moto_still_needs_the_adaptation(entry: str, aws: Callable[[str], Any]) -> None:
    ADAPTED_PROBES[entry](aws)


@pytest.mark.parametrize("entry", sorted(PROBES))
def test_moto_still_cannot(entry: str, aws: Callable[[str], Any]) -> None:
    PROBES[entry](aws)
