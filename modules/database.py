"""Database tier: RDS (MySQL 8.0 or PostgreSQL 16) in the private-data subnets, with read replicas.

- Not public; the only way in is the client security group (the app servers) on the DB port.
- Storage: gp3, encrypted with this tier's KMS key, autoscaling up to ``max_allocated_storage_gb``.
- The master password is generated and rotated by RDS in Secrets Manager
  (``manage_master_user_password``): it never appears in code, user data or Terraform state.
- TLS is forced by the parameter group (``require_secure_transport`` / ``rds.force_ssl``), which
  also turns on the slow query log (> 2 s) that the log exports ship to CloudWatch.
- Backups with retention and windows, tags copied to snapshots, a final snapshot on delete,
  deletion protection where the stage asks (always in prod); Performance Insights (KMS; not on
  MySQL t*.micro/small, where RDS offers none),
  enhanced monitoring, log exports into log groups created here with retention.
- Read replicas get the same class, KMS key, parameter group, monitoring and log exports as the
  primary, spread over the other AZs. They must not set the master password (AWS rejects it).
- Where the app finds things: SecureString SSM parameters (this tier's KMS key) under
  ``/digital-booking/<name>/database/`` (endpoints and the secret's ARN, never the secret),
  readable and decryptable by the client role only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.db_event_subscription import DbEventSubscription
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules._key_policy import account_administers_key

#: Per engine: parameter group family prefix, the parameter that forces TLS, the logs to export.
ENGINES = {
    "mysql": {"family": "mysql{major}", "tls": ("require_secure_transport", "1"),
              # No "general": that log (every statement, with its values) stays off, so nothing to export.
              "logs": ("error", "slowquery"), "default_port": 3306,
              # RDS MySQL writes no slow query log unless asked: without these the export stays empty.
              "slow_log": (("slow_query_log", "1"), ("long_query_time", "2"))},
    "postgres": {"family": "postgres{major}", "tls": ("rds.force_ssl", "1"),
                 "logs": ("postgresql", "upgrade"), "default_port": 5432,
                 # Statements slower than 2 s go to the exported postgresql log (off by default).
                 "slow_log": (("log_min_duration_statement", "2000"),)},
}
#: RDS for MySQL has no Performance Insights on these burstable classes (AWS: "instance class support").
NO_PERFORMANCE_INSIGHTS = re.compile(r"^db\.t(2|3|4g)\.(micro|small)$")


def performance_insights_supported(engine: str, instance_class: str) -> bool:
    """Whether RDS accepts Performance Insights for this engine on this class (AWS rejects the create otherwise)."""
    return not (engine == "mysql" and NO_PERFORMANCE_INSIGHTS.match(instance_class))


EVENT_CATEGORIES = ("availability", "deletion", "failover", "failure", "low storage", "maintenance",
                    "notification", "recovery", "restoration")


@dataclass(frozen=True)
class BookingDatabaseProps:
    """What the database tier needs. Every field has a default; a stage overrides what it must."""

    #: Prefix of every resource name, e.g. ``digital-booking-dev``.
    name: str = "digital-booking"
    #: Region, for the ARNs of the SSM parameters the client may read.
    region: str = "eu-west-1"
    #: VPC of the database security group.
    vpc_id: str = ""
    #: Private-data subnets, one per AZ (the DB subnet group).
    subnet_ids: tuple[str, ...] = ()
    #: AZs of those subnets, in order: replicas are spread over them, starting after the primary's.
    azs: tuple[str, ...] = ()
    #: The only security group allowed to connect (the app servers'); gets a matching egress rule.
    client_security_group_id: str = ""
    #: Role that may read the connection parameters and the master secret (the app servers'); None: nobody.
    client_role_name: str | None = None
    #: ``mysql`` (8.0) or ``postgres`` (16).
    engine: str = "mysql"
    #: Engine version; a major family such as ``8.0`` lets RDS pick and patch the minor version.
    engine_version: str = "8.0"
    #: Instance class of the primary and of every replica (vertical sizing).
    instance_class: str = "db.t4g.medium"
    #: Initial gp3 storage in GiB.
    allocated_storage_gb: int = 20
    #: Storage autoscaling ceiling in GiB.
    max_allocated_storage_gb: int = 100
    #: Standby in a second AZ with synchronous replication and automatic failover.
    multi_az: bool = True
    #: Read replicas (horizontal read scaling).
    read_replicas: int = 0
    #: Listener port; None uses the engine default (3306 / 5432).
    port: int | None = None
    #: Initial database.
    database_name: str = "booking"
    #: Master user name (not the default ``admin``/``postgres``).
    master_username: str = "booking_admin"
    #: Days of automated backups.
    backup_retention_days: int = 7
    #: Daily backup window (UTC).
    backup_window: str = "02:00-03:00"
    #: Weekly maintenance window (UTC).
    maintenance_window: str = "sun:03:30-sun:04:30"
    #: Refuse deletion through the API, and Terraform ``prevent_destroy`` on the primary.
    deletion_protection: bool = True
    #: Performance Insights retention days (7 is free); PI is on wherever the engine/class offers it.
    performance_insights_retention_days: int = 7
    #: Enhanced monitoring interval in seconds (0: off).
    monitoring_interval_seconds: int = 60
    #: Days the exported database logs are kept.
    log_retention_days: int = 90
    #: KMS key for those log groups; None uses CloudWatch's own encryption.
    log_kms_key_arn: str | None = None
    #: SNS topic for RDS events (failover, failure, storage...); None: no event subscription.
    alarm_topic_arn: str | None = None
    #: Tags for resources of this tier (the provider adds the stage's default tags).
    tags: dict[str, str] = field(default_factory=dict)


class BookingDatabase(Construct):
    """The RDS primary, its read replicas and everything they need. See the module docstring."""

    def __init__(self, scope: Construct, id_: str, props: BookingDatabaseProps = BookingDatabaseProps()) -> None:
        super().__init__(scope, id_)
        if props.engine not in ENGINES:
            raise ValueError(f"BookingDatabaseProps.engine = {props.engine!r}: allowed: {', '.join(ENGINES)}")
        engine = ENGINES[props.engine]
        name = props.name
        self.engine: str = props.engine
        self.port: int = props.port or engine["default_port"]
        account_id = DataAwsCallerIdentity(self, "account").account_id

        self.kms_key = KmsKey(
            self, "key",
            description=f"{name}: database storage, Performance Insights, master secret, connection parameters",
            enable_key_rotation=True, deletion_window_in_days=30, tags=props.tags,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [account_administers_key(account_id)]}))

        self.security_group = SecurityGroup(
            self, "security-group", name_prefix=f"{name}-db-", vpc_id=props.vpc_id,
            description=f"{name} database: {props.engine} port from the app servers only",
            tags={"Name": f"{name}-db", **props.tags}, lifecycle=TerraformResourceLifecycle(create_before_destroy=True))
        #: The database's security group (no egress rules: the database starts no connections).
        self.security_group_id: str = self.security_group.id
        VpcSecurityGroupIngressRule(
            self, "ingress-from-clients", security_group_id=self.security_group.id, ip_protocol="tcp",
            from_port=self.port, to_port=self.port, referenced_security_group_id=props.client_security_group_id,
            description=f"{props.engine} from the app servers")
        VpcSecurityGroupEgressRule(
            self, "client-egress-to-database", security_group_id=props.client_security_group_id, ip_protocol="tcp",
            from_port=self.port, to_port=self.port, referenced_security_group_id=self.security_group.id,
            description=f"App servers to the {props.engine} database")

        subnet_group = DbSubnetGroup(self, "subnet-group", name=f"{name}-db", subnet_ids=list(props.subnet_ids),
                                     description=f"{name} database: private-data subnets", tags=props.tags)
        major = props.engine_version.split(".")[0] if props.engine == "postgres" else props.engine_version[:3]
        tls_parameter, tls_value = engine["tls"]
        parameter_group = DbParameterGroup(
            self, "parameter-group", name_prefix=f"{name}-{props.engine}-", family=engine["family"].format(major=major),
            description=f"{name}: {props.engine} with TLS required",
            parameter=[DbParameterGroupParameter(name=parameter, value=value, apply_method="immediate")
                       for parameter, value in ((tls_parameter, tls_value), *engine["slow_log"])],
            tags=props.tags, lifecycle=TerraformResourceLifecycle(create_before_destroy=True))

        monitoring_role_arn = None
        if props.monitoring_interval_seconds:
            role = IamRole(self, "monitoring-role", name=f"{name}-rds-monitoring", tags=props.tags,
                           assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                               "Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "monitoring.rds.amazonaws.com"}}]}))
            IamRolePolicyAttachment(self, "monitoring-role-policy", role=role.name,
                                    policy_arn="arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")
            monitoring_role_arn = role.arn

        identifier = f"{name}-db"
        self.log_groups = [CloudwatchLogGroup(
            self, f"log-{log}", name=f"/aws/rds/instance/{identifier}/{log}",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.log_kms_key_arn, tags=props.tags) for log in engine["logs"]]
        # On (KMS-encrypted) wherever RDS offers it; MySQL on t*.micro/small (dev's class) has none, and
        # asking for it there makes the create fail. The stage check keeps production on a class that has it.
        insights = performance_insights_supported(props.engine, props.instance_class)
        #: Whether Performance Insights is on (False only on a class RDS offers none for).
        self.performance_insights_enabled: bool = insights
        common = dict(
            instance_class=props.instance_class, storage_type="gp3", kms_key_id=self.kms_key.arn,
            vpc_security_group_ids=[self.security_group.id], publicly_accessible=False, port=self.port,
            parameter_group_name=parameter_group.name, performance_insights_enabled=insights,
            performance_insights_kms_key_id=self.kms_key.arn if insights else None,
            performance_insights_retention_period=props.performance_insights_retention_days if insights else None,
            monitoring_interval=props.monitoring_interval_seconds, monitoring_role_arn=monitoring_role_arn,
            enabled_cloudwatch_logs_exports=list(engine["logs"]), auto_minor_version_upgrade=True,
            iam_database_authentication_enabled=True, copy_tags_to_snapshot=True,
            deletion_protection=props.deletion_protection, maintenance_window=props.maintenance_window,
            ca_cert_identifier="rds-ca-rsa2048-g1", tags=props.tags)

        self.primary = DbInstance(
            self, "primary", identifier=identifier, engine=props.engine, engine_version=props.engine_version,
            allocated_storage=props.allocated_storage_gb, max_allocated_storage=props.max_allocated_storage_gb,
            storage_encrypted=True, db_name=props.database_name, username=props.master_username,
            manage_master_user_password=True, master_user_secret_kms_key_id=self.kms_key.arn,
            db_subnet_group_name=subnet_group.name, multi_az=props.multi_az,
            availability_zone=None if props.multi_az or not props.azs else props.azs[0],
            backup_retention_period=props.backup_retention_days, backup_window=props.backup_window,
            delete_automated_backups=False, skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final", allow_major_version_upgrade=False,
            depends_on=self.log_groups,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.deletion_protection), **common)

        self.replicas: list[DbInstance] = []
        for index in range(props.read_replicas):
            replica_id = f"{identifier}-replica-{index + 1}"
            replica_logs = [CloudwatchLogGroup(
                self, f"replica-{index + 1}-log-{log}", name=f"/aws/rds/instance/{replica_id}/{log}",
                retention_in_days=props.log_retention_days, kms_key_id=props.log_kms_key_arn, tags=props.tags)
                for log in engine["logs"]]
            self.log_groups.extend(replica_logs)
            self.replicas.append(DbInstance(
                self, f"replica-{index + 1}", identifier=replica_id, replicate_source_db=self.primary.identifier,
                availability_zone=props.azs[(index + 1) % len(props.azs)] if props.azs else None,
                # Replicas inherit storage and encryption from the primary, but not storage autoscaling:
                # without the same ceiling a replica fills up while its primary grows, and replication stops.
                max_allocated_storage=props.max_allocated_storage_gb, storage_encrypted=True,
                # RDS MySQL replicas keep their own backups so a promoted replica is protected at once
                # (PostgreSQL replicas cannot).
                backup_retention_period=props.backup_retention_days if props.engine == "mysql" else 0,
                backup_window=props.backup_window if props.engine == "mysql" else None,
                skip_final_snapshot=True, depends_on=replica_logs, **common))

        #: What the monitoring tier and the outputs need.
        self.instance_identifier: str = self.primary.identifier
        self.replica_identifiers: list[str] = [r.identifier for r in self.replicas]
        self.endpoint_address: str = self.primary.address
        self.reader_endpoint_addresses: list[str] = [r.address for r in self.replicas]
        self.master_secret_arn: str = self.primary.master_user_secret.get(0).secret_arn
        self.log_group_names: list[str] = [g.name for g in self.log_groups]

        if props.alarm_topic_arn:
            DbEventSubscription(self, "events", name=f"{name}-db-events", sns_topic=props.alarm_topic_arn,
                                source_type="db-instance",
                                # References, not names: RDS refuses a subscription to an instance not yet created.
                                source_ids=[self.instance_identifier] + self.replica_identifiers,
                                event_categories=list(EVENT_CATEGORIES), tags=props.tags)

        # Where the app finds the database: no secret values, but SecureString under this tier's key all the
        # same (endpoints and the secret's ARN are reconnaissance; FSBP/checkov CKV2_AWS_34 want them encrypted).
        prefix = f"/digital-booking/{name}/database"
        readers = Fn.join(",", self.reader_endpoint_addresses) if self.replicas else "none"
        for key, value in (("endpoint", self.endpoint_address), ("reader-endpoints", readers),
                           ("port", str(self.port)), ("name", props.database_name),
                           ("master-secret-arn", self.master_secret_arn)):
            SsmParameter(self, f"parameter-{key}", name=f"{prefix}/{key}", type="SecureString", key_id=self.kms_key.arn,
                         value=value,
                         description=f"{name} database {key.replace('-', ' ')} (no secret values)", tags=props.tags)
        self.parameter_path: str = prefix
        if props.client_role_name:
            IamRolePolicy(self, "client-read-policy", name=f"{name}-read-database-connection",
                          role=props.client_role_name,
                          policy=json.dumps({"Version": "2012-10-17", "Statement": [
                              {"Sid": "ReadConnectionParameters", "Effect": "Allow",
                               "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                               "Resource": [f"arn:aws:ssm:{props.region}:{account_id}:parameter{prefix}",
                                            f"arn:aws:ssm:{props.region}:{account_id}:parameter{prefix}/*"]},
                              {"Sid": "DecryptConnectionParameters", "Effect": "Allow", "Action": "kms:Decrypt",
                               "Resource": self.kms_key.arn,
                               "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{props.region}.amazonaws.com"}}},
                              {"Sid": "ReadMasterSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                               "Resource": self.master_secret_arn},
                              {"Sid": "DecryptMasterSecret", "Effect": "Allow", "Action": "kms:Decrypt",
                               "Resource": self.kms_key.arn,
                               "Condition": {"StringEquals": {
                                   "kms:ViaService": f"secretsmanager.{props.region}.amazonaws.com"}}}]}))
