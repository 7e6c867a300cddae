"""Database tier: RDS (MySQL 8.4 or PostgreSQL 17/16) in the private-data subnets, with read replicas.

- Not public; the only way in is a client security group admitted by :meth:`BookingDatabase.allow_from`
  (the app servers) on the database port.
- Storage: gp3, encrypted with this tier's KMS key, autoscaling up to ``max_allocated_storage_gb``.
- Engine versions in RDS standard support only, and RDS Extended Support disabled on the instance:
  a version past its end of standard support is refused instead of quietly billed.
- The master password is generated and rotated by RDS in Secrets Manager
  (``manage_master_user_password``): it never appears in code, user data or Terraform state, and
  only the operator role (:attr:`BookingDatabase.operator_role`, MFA) may read it. The app logs in
  as its own database user with IAM authentication over TLS (:meth:`BookingDatabase.grant_connect`):
  ``rds-db:connect`` on that user only. ``make db-app-user`` creates that user once per stage.
- TLS is forced by the parameter group (``require_secure_transport`` / ``rds.force_ssl``), which
  also turns on the slow query log (> 2 s) and, for MySQL, ``log_output = FILE``, without which RDS
  publishes no MySQL log to CloudWatch. The audit log: MySQL's MariaDB Audit Plugin (option group),
  PostgreSQL's pgAudit (parameters). Every log type is exported into a log group made here.
- Backups with retention and windows, tags copied to snapshots, a final snapshot on delete,
  deletion protection where the stage asks (always in prod); Performance Insights (KMS; not on
  MySQL t*.micro/small, where RDS offers none), enhanced monitoring.
- Read replicas get the same class, KMS key, parameter and option groups, monitoring and log exports
  as the primary, spread over the other AZs. They must not set the master password (AWS rejects it).
- Every RDS event of the instances, the parameter group and DB security groups goes to the alarm topic.
- Where the app finds things: SecureString SSM parameters (this tier's KMS key) under
  ``/digital-booking/<name>/database/`` (endpoints, port, name, the app's user; nothing secret).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.db_event_subscription import DbEventSubscription
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_option_group import (
    DbOptionGroup,
    DbOptionGroupOption,
    DbOptionGroupOptionOptionSettings,
)
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.kit import (
    FINAL_SNAPSHOT_ATTRIBUTE,
    Connectable,
    Grantee,
    StageContext,
    Tier,
    connection_parameters,
    customer_managed_key,
    decrypt_parameters_statement,
    final_snapshot_name,
    log_group,
    open_port,
    policy_document,
    read_parameters_statement,
    service_role,
    tier_security_group,
    via_service,
)
from modules.network import Network
from modules.settings import (
    RETENTIONS,
    SectionProblems,
    check_range,
    check_retention,
    check_windows,
    setting,
)


@dataclass(frozen=True)
class Engine:
    """What differs between the engines."""

    #: Major versions in RDS standard support today, the default first.
    versions: tuple[str, ...]
    #: Major versions RDS has moved to paid Extended Support, and since when.
    retired: dict[str, str]
    #: Parameter group family of a major version.
    family: str
    default_port: int
    #: Log types exported to CloudWatch Logs, and the audit log's own type (None: it goes to the main log).
    logs: tuple[str, ...]
    audit_log_type: str | None
    #: Parameters (name, value, apply method) every instance gets: TLS only, the slow query log and
    #: where RDS writes it; and those that switch the audit log on where it is a parameter.
    parameters: tuple[tuple[str, str, str], ...]
    audit_parameters: tuple[tuple[str, str, str], ...]


ENGINES = {
    # RDS publishes MySQL logs to CloudWatch only with log_output = FILE ("Publishing MySQL logs to Amazon
    # CloudWatch Logs"). No "general" log (every statement, with its values). The audit log comes from
    # the MariaDB Audit Plugin option group (see BookingDatabase._audit_option_group).
    "mysql": Engine(
        versions=("8.4",),
        retired={"8.0": "2026-07-31", "5.7": "2024-02-29"},
        family="mysql{major}",
        default_port=3306,
        logs=("error", "slowquery", "iam-db-auth-error"),
        audit_log_type="audit",
        parameters=(
            ("require_secure_transport", "1", "immediate"),
            ("slow_query_log", "1", "immediate"),
            ("long_query_time", "2", "immediate"),
            ("log_output", "FILE", "immediate"),
        ),
        audit_parameters=(),
    ),
    # Statements slower than 2 s go to the exported postgresql log (off by default). pgAudit writes
    # its records into the same log; shared_preload_libraries is static, so RDS takes it only with
    # apply_method pending-reboot (it applies at creation, and at the next reboot after a change).
    "postgres": Engine(
        versions=("17", "16"),
        retired={"13": "2026-02-28", "12": "2025-02-28", "11": "2024-02-29"},
        family="postgres{major}",
        default_port=5432,
        logs=("postgresql", "upgrade", "iam-db-auth-error"),
        audit_log_type=None,
        parameters=(("rds.force_ssl", "1", "immediate"), ("log_min_duration_statement", "2000", "immediate")),
        audit_parameters=(
            ("shared_preload_libraries", "pg_stat_statements,pgaudit", "pending-reboot"),
            ("pgaudit.log", "ddl,role", "immediate"),
        ),
    ),
}
#: What the MariaDB Audit Plugin records: who connects, schema changes and grants. Not QUERY: that
#: would log every statement with its values (guests' personal data) and slow the database.
AUDIT_EVENTS = "CONNECT,QUERY_DDL,QUERY_DCL"
#: Keeps an instance out of paid RDS Extended Support: past the end of standard support RDS refuses
#: to create it (and upgrades it at the end of support) instead of billing Extended Support.
EXTENDED_SUPPORT_DISABLED = "open-source-rds-extended-support-disabled"
#: RDS for MySQL has no Performance Insights on these burstable classes (AWS: "instance class support").
NO_PERFORMANCE_INSIGHTS = re.compile(r"^db\.t(2|3|4g)\.(micro|small)$")


def primary_identifier(name: str) -> str:
    """The primary instance's identifier for a stage's resource prefix (what ``make restore`` looks up)."""
    return f"{name}-db"


def performance_insights_supported(engine: str, instance_class: str) -> bool:
    """Whether RDS accepts Performance Insights for this engine on this class (AWS rejects the create otherwise)."""
    return not (engine == "mysql" and NO_PERFORMANCE_INSIGHTS.match(instance_class))


DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
IDENTIFIER = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,15}$")
MAX_REPLICAS = 5


@dataclass(frozen=True)
class DatabaseSettings:
    """[database]: the RDS primary, its read replicas, backups and sizing."""

    engine: Literal["mysql", "postgres"] = setting(
        "mysql", allowed="'mysql' (MySQL, what the booking application uses) or 'postgres' (PostgreSQL)"
    )
    #: A major version (``8.4``) lets RDS pick and patch the minor version; None: the engine's newest.
    engine_version: str | None = setting(
        None,
        allowed=(
            "a major version in RDS standard support: '8.4' (or '8.4.x') for mysql, '17' or '16' (or '16.x')"
            " for postgres; unset: the newest (mysql 8.4, postgres 17)"
        ),
    )
    #: Instance class of the primary and of every replica (vertical sizing).
    instance_class: str = setting(
        "db.t4g.medium",
        allowed=(
            "an RDS instance class 'db.<family>.<size>', e.g. 'db.r7g.large' (vertical sizing; mysql on"
            " db.t2/t3/t4g micro or small runs without Performance Insights, not allowed in production)"
        ),
    )
    allocated_storage_gb: int = setting(20, allowed="20 to 65536 GiB of gp3 storage")
    #: Storage autoscaling ceiling.
    max_allocated_storage_gb: int = setting(
        100, allowed=("the storage-autoscaling ceiling in GiB, >= allocated_storage_gb and <= 65536")
    )
    #: Standby in a second AZ with synchronous replication and automatic failover.
    multi_az: bool = setting(True, allowed="true or false (must be true in a production stage)")
    #: Read replicas (horizontal read scaling), spread over the AZs after the primary's.
    read_replicas: int = setting(
        0, allowed=(f"0 to {MAX_REPLICAS} read replicas (horizontal read scaling; at least 1 in a production stage)")
    )
    #: Listener port; None uses the engine default (3306 / 5432).
    port: int | None = setting(
        None, allowed=("a TCP port 1150-65535 (unset: the engine's default, 3306 for mysql, 5432 for postgres)")
    )
    database_name: str = setting(
        "booking", allowed=("the initial database name: a letter then up to 15 letters, digits or '_'")
    )
    master_username: str = setting(
        "booking_admin",
        allowed=(
            "a custom master user name (not 'admin', 'root' or 'postgres'): a letter then up to 15 letters, digits, '_'"
        ),
    )
    backup_retention_days: int = setting(
        7, allowed=("0 to 35 days of automated backups (at least 7 in a production stage; read replicas need >= 1)")
    )
    backup_window: str = setting(
        "02:00-03:00", allowed=("'hh:mm-hh:mm' in UTC, at least 30 minutes, outside maintenance_window")
    )
    maintenance_window: str = setting(
        "sun:03:30-sun:04:30", allowed=("'ddd:hh:mm-ddd:hh:mm' in UTC, at least 30 minutes, outside backup_window")
    )
    #: Refuse deletion through the API, and Terraform ``prevent_destroy`` on the primary.
    deletion_protection: bool = setting(True, allowed="true or false (must be true in a production stage)")
    #: Performance Insights retention days (7 is free); PI is on wherever the engine/class offers it.
    performance_insights_retention_days: int = setting(7, allowed="7 (free tier) or a multiple of 31 up to 731")
    #: Enhanced monitoring interval in seconds (0: off).
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = setting(
        60,
        allowed=(
            "enhanced monitoring interval: 1, 5, 10, 15, 30 or 60 seconds (0 turns it off, not allowed in production)"
        ),
    )
    #: Days the exported database logs are kept.
    log_retention_days: int = setting(90, allowed=f"a CloudWatch retention: {RETENTIONS}")
    #: The database user the app connects as: IAM authentication over TLS, no password anywhere.
    app_username: str = setting(
        "booking_app",
        allowed=(
            "the app's database user (IAM authentication, created once per stage by `make db-app-user`): a letter"
            " then up to 15 letters, digits or '_', not the master user"
        ),
    )
    #: The engine's audit log (who connected, schema changes, grants) exported to CloudWatch Logs.
    audit_log: bool = setting(
        True,
        allowed=(
            "true or false: MySQL's MariaDB Audit Plugin (option group) or PostgreSQL's pgAudit, exported to"
            " CloudWatch Logs (true in a production stage)"
        ),
    )

    @property
    def version(self) -> str:
        """The engine version asked for, or the engine's newest major version in standard support."""
        return self.engine_version or ENGINES[self.engine].versions[0]

    @property
    def major_version(self) -> str:
        """``8.4`` for MySQL ``8.4.x``, ``16`` for PostgreSQL ``16.x``."""
        parts = self.version.split(".")
        return ".".join(parts[:2]) if self.engine == "mysql" else parts[0]

    @property
    def effective_port(self) -> int:
        return self.port or ENGINES[self.engine].default_port

    @property
    def performance_insights(self) -> bool:
        """Whether RDS offers Performance Insights for this engine on this class."""
        return performance_insights_supported(self.engine, self.instance_class)

    def check(self, problems: SectionProblems, region: str) -> None:
        engine = ENGINES.get(self.engine)
        if engine is None:
            problems.add("engine", self.engine, "not a supported engine", "'mysql' or 'postgres'")
            return
        supported = " or ".join(f"'{v}' (or '{v}.x')" for v in engine.versions) + f" for engine '{self.engine}'"
        if self.engine_version is not None:
            number = r"\d+\.\d+" if self.engine == "mysql" else r"\d+"
            if not re.fullmatch(rf"{number}(\.\d+)?", self.engine_version):
                problems.add("engine_version", self.engine_version, f"not a {self.engine} version", supported)
            elif self.major_version in engine.retired:
                problems.add(
                    "engine_version",
                    self.engine_version,
                    f"{self.engine} {self.major_version} left RDS standard support on"
                    f" {engine.retired[self.major_version]}: a new instance would be billed for RDS Extended Support"
                    " (this platform disables it, so RDS would refuse to create it)",
                    supported,
                )
            elif self.major_version not in engine.versions:
                problems.add(
                    "engine_version",
                    self.engine_version,
                    f"not a supported {self.engine} version family",
                    supported,
                )
        if not DB_INSTANCE_CLASS.match(self.instance_class):
            problems.add(
                "instance_class",
                self.instance_class,
                "not an RDS instance class",
                "'db.<family>.<size>', e.g. 'db.r7g.large'",
            )
        check_range(problems, "allocated_storage_gb", self.allocated_storage_gb, 20, 65536)
        if not self.allocated_storage_gb <= self.max_allocated_storage_gb <= 65536:
            problems.add(
                "max_allocated_storage_gb",
                self.max_allocated_storage_gb,
                f"below allocated_storage_gb ({self.allocated_storage_gb}) or above 65536",
                f"{self.allocated_storage_gb} to 65536",
            )
        if not 0 <= self.read_replicas <= MAX_REPLICAS:
            problems.add("read_replicas", self.read_replicas, "out of range", f"0 to {MAX_REPLICAS}")
        if self.port is not None and not 1150 <= self.port <= 65535:
            problems.add("port", self.port, "out of range", "1150 to 65535 (RDS's allowed ports)")
        if not IDENTIFIER.match(self.database_name):
            problems.add(
                "database_name",
                self.database_name,
                "not a database name",
                "a letter then up to 15 letters, digits or '_'",
            )
        if not IDENTIFIER.match(self.master_username) or self.master_username.lower() in ("admin", "root", "postgres"):
            problems.add(
                "master_username",
                self.master_username,
                "default or malformed user name",
                "a custom name (not admin/root/postgres): a letter then up to 15 letters, digits or '_'",
            )
        check_range(problems, "backup_retention_days", self.backup_retention_days, 0, 35)
        if self.read_replicas and self.backup_retention_days < 1:
            problems.add(
                "backup_retention_days",
                self.backup_retention_days,
                "read replicas need automated backups on the primary",
                "1 to 35 when read_replicas > 0",
            )
        check_windows(problems, "backup_window", self.backup_window, self.maintenance_window, 30, "RDS")
        pi = self.performance_insights_retention_days
        if not (pi == 7 or (pi % 31 == 0 and 31 <= pi <= 731)):
            problems.add(
                "performance_insights_retention_days",
                pi,
                "not a retention RDS accepts",
                "7, or a multiple of 31 from 31 to 731",
            )
        check_retention(problems, "log_retention_days", self.log_retention_days)
        if not IDENTIFIER.match(self.app_username) or self.app_username == self.master_username:
            problems.add(
                "app_username",
                self.app_username,
                "not a user name, or the master user",
                "a letter then up to 15 letters, digits or '_', other than master_username",
            )


class BookingDatabase(Tier[DatabaseSettings]):
    """The RDS primary, its read replicas and everything they need. See the module docstring."""

    def __init__(
        self, scope: Construct, id_: str, settings: DatabaseSettings, context: StageContext, *, network: Network
    ) -> None:
        super().__init__(scope, id_, settings, context)
        engine = ENGINES[settings.engine]
        name = context.name
        self.network = network
        self.engine: str = settings.engine
        self.port: int = settings.effective_port

        self.kms_key = customer_managed_key(
            self,
            "key",
            context.account,
            f"{name}: database storage, Performance Insights, master secret, connection parameters",
            tags=context.tags,
        )

        self.security_group = tier_security_group(
            self, context, network.vpc_id, "db", f"{name} database: {settings.engine} port from the app servers only"
        )
        #: The database's security group (no egress rules: the database starts no connections).
        self.security_group_id: str = self.security_group.id

        subnet_group = DbSubnetGroup(
            self,
            "subnet-group",
            name=f"{name}-db",
            subnet_ids=list(network.private_data_subnet_ids),
            description=f"{name} database: private-data subnets",
            tags=context.resource_tags,
        )
        parameter_group = DbParameterGroup(
            self,
            "parameter-group",
            name_prefix=f"{name}-{settings.engine}-",
            family=engine.family.format(major=settings.major_version),
            description=f"{name}: {settings.engine} with TLS required",
            parameter=[
                DbParameterGroupParameter(name=parameter, value=value, apply_method=apply_method)
                for parameter, value, apply_method in engine.parameters
                + (engine.audit_parameters if settings.audit_log else ())
            ],
            tags=context.resource_tags,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        #: Name of the parameter group (its changes are RDS events of the stage too).
        self.parameter_group_name: str = parameter_group.name
        option_group = self._audit_option_group() if settings.audit_log and settings.engine == "mysql" else None
        exported_logs = engine.logs + ((engine.audit_log_type,) if settings.audit_log and engine.audit_log_type else ())

        monitoring_role_arn = None
        if settings.monitoring_interval_seconds:
            role = service_role(
                self, "monitoring-role", f"{name}-rds-monitoring", "monitoring.rds.amazonaws.com", tags=context.tags
            )
            IamRolePolicyAttachment(
                self,
                "monitoring-role-policy",
                role=role.name,
                policy_arn=context.account.managed_policy_arn("service-role/AmazonRDSEnhancedMonitoringRole"),
            )
            monitoring_role_arn = role.arn

        identifier = primary_identifier(name)
        self.log_groups = [
            log_group(self, f"log-{log}", context, f"/aws/rds/instance/{identifier}/{log}", settings.log_retention_days)
            for log in exported_logs
        ]
        # On (KMS-encrypted) wherever RDS offers it; MySQL on t*.micro/small (dev's class) has none, and
        # asking for it there makes the create fail. The production rules keep production on a class that has it.
        insights = settings.performance_insights
        #: Whether Performance Insights is on (False only on a class RDS offers none for).
        self.performance_insights_enabled: bool = insights
        common: dict[str, Any] = dict(
            instance_class=settings.instance_class,
            storage_type="gp3",
            kms_key_id=self.kms_key.arn,
            vpc_security_group_ids=[self.security_group.id],
            publicly_accessible=False,
            port=self.port,
            parameter_group_name=parameter_group.name,
            option_group_name=option_group.name if option_group is not None else None,
            performance_insights_enabled=insights,
            performance_insights_kms_key_id=self.kms_key.arn if insights else None,
            performance_insights_retention_period=settings.performance_insights_retention_days if insights else None,
            monitoring_interval=settings.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role_arn,
            enabled_cloudwatch_logs_exports=list(exported_logs),
            auto_minor_version_upgrade=True,
            iam_database_authentication_enabled=True,
            copy_tags_to_snapshot=True,
            deletion_protection=settings.deletion_protection,
            maintenance_window=settings.maintenance_window,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            tags=context.resource_tags,
        )

        self.primary = DbInstance(
            self,
            "primary",
            identifier=identifier,
            engine=settings.engine,
            engine_version=settings.version,
            # Replicas inherit it (CreateDBInstanceReadReplica takes no lifecycle setting).
            engine_lifecycle_support=EXTENDED_SUPPORT_DISABLED,
            allocated_storage=settings.allocated_storage_gb,
            max_allocated_storage=settings.max_allocated_storage_gb,
            storage_encrypted=True,
            db_name=settings.database_name,
            username=settings.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=self.kms_key.arn,
            db_subnet_group_name=subnet_group.name,
            multi_az=settings.multi_az,
            availability_zone=None if settings.multi_az else network.azs[0],
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            delete_automated_backups=False,
            skip_final_snapshot=False,
            final_snapshot_identifier=final_snapshot_name(identifier),
            allow_major_version_upgrade=False,
            depends_on=self.log_groups,
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=settings.deletion_protection, ignore_changes=[FINAL_SNAPSHOT_ATTRIBUTE]
            ),
            **common,
        )

        self.replicas: list[DbInstance] = []
        mysql = settings.engine == "mysql"
        for index in range(settings.read_replicas):
            replica_id = f"{identifier}-replica-{index + 1}"
            replica_logs = [
                log_group(
                    self,
                    f"replica-{index + 1}-log-{log}",
                    context,
                    f"/aws/rds/instance/{replica_id}/{log}",
                    settings.log_retention_days,
                )
                for log in exported_logs
            ]
            self.log_groups.extend(replica_logs)
            self.replicas.append(
                DbInstance(
                    self,
                    f"replica-{index + 1}",
                    identifier=replica_id,
                    replicate_source_db=self.primary.identifier,
                    availability_zone=network.azs[(index + 1) % len(network.azs)],
                    # Replicas inherit storage and encryption from the primary, but not storage autoscaling:
                    # without the same ceiling a replica fills up while its primary grows, and replication stops.
                    max_allocated_storage=settings.max_allocated_storage_gb,
                    storage_encrypted=True,
                    # RDS MySQL replicas keep their own backups so a promoted replica is protected at once
                    # (PostgreSQL replicas cannot).
                    backup_retention_period=settings.backup_retention_days if mysql else 0,
                    backup_window=settings.backup_window if mysql else None,
                    skip_final_snapshot=True,
                    depends_on=replica_logs,
                    **common,
                )
            )

        #: What the monitoring tier and the outputs need.
        self.instance_identifier: str = self.primary.identifier
        #: What the backup tier needs: the primary, its automated-backup retention, where a restore goes.
        self.instance_arn: str = self.primary.arn
        self.backup_retention_days: int = settings.backup_retention_days
        self.subnet_group_name: str = subnet_group.name
        self.replica_identifiers: list[str] = [r.identifier for r in self.replicas]
        self.endpoint_address: str = self.primary.address
        self.reader_endpoint_addresses: list[str] = [r.address for r in self.replicas]
        #: The RDS-managed master secret: only the operator role may read it (see ``operator_role``).
        self.master_secret_arn: str = self.primary.master_user_secret.get(0).secret_arn
        self.log_group_names: list[str] = [g.name for g in self.log_groups]

        self._event_subscriptions()
        readers = Fn.join(",", self.reader_endpoint_addresses) if self.replicas else "none"
        #: Where the app finds the database (SSM parameters under this path; nothing secret).
        self.parameter_path: str = connection_parameters(
            self,
            context,
            "database",
            self.kms_key.arn,
            {
                "endpoint": self.endpoint_address,
                "reader-endpoints": readers,
                "port": str(self.port),
                "name": settings.database_name,
                "user": settings.app_username,
                "authentication": "iam",
            },
        )
        self.operator_role = self._operator_role()

    def _audit_option_group(self) -> DbOptionGroup:
        """MySQL's audit log: RDS writes it only with the MariaDB Audit Plugin option."""
        settings, name = self.settings, self.context.name
        return DbOptionGroup(
            self,
            "option-group",
            name_prefix=f"{name}-mysql-audit-",
            engine_name="mysql",
            major_engine_version=settings.major_version,
            option_group_description=f"{name}: MariaDB Audit Plugin (connections, DDL, grants)",
            option=[
                DbOptionGroupOption(
                    option_name="MARIADB_AUDIT_PLUGIN",
                    option_settings=[DbOptionGroupOptionOptionSettings(name="SERVER_AUDIT_EVENTS", value=AUDIT_EVENTS)],
                )
            ],
            tags=self.context.resource_tags,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

    def _event_subscriptions(self) -> None:
        """Every RDS event of the stage's instances, parameter group and DB security groups, in every
        category (none listed is all), to the alarm topic, whose key RDS may use."""
        context = self.context
        for id_, source_type, source_ids in (
            # References, not names: RDS refuses a subscription to an instance not yet created.
            ("events", "db-instance", [self.instance_identifier, *self.replica_identifiers]),
            ("parameter-group-events", "db-parameter-group", [self.parameter_group_name]),
            # VPC instances use no DB security groups; the subscription still covers any such group.
            ("security-group-events", "db-security-group", None),
        ):
            DbEventSubscription(
                self,
                id_,
                name=f"{context.name}-db-{id_}",
                sns_topic=context.alarm_topic_arn,
                source_type=source_type,
                source_ids=source_ids,
                tags=context.resource_tags,
            )

    def _operator_role(self) -> IamRole:
        """The one role that may read the master secret: for the operators' one-off tasks (creating the
        app's database user). Assumed with MFA by people the account's IAM allows to."""
        context, account = self.context, self.context.account
        role = IamRole(
            self,
            "operator-role",
            name=f"{context.name}-db-operator",
            description=f"{context.name}: database operators (master secret, port forwarding to the database)",
            max_session_duration=3600,
            assume_role_policy=policy_document(
                {
                    "Sid": "AccountPrincipalsWithMfa",
                    "Effect": "Allow",
                    "Principal": {"AWS": account.root_arn},
                    "Action": "sts:AssumeRole",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                }
            ),
            tags=context.resource_tags,
        )
        IamRolePolicy(
            self,
            "operator-policy",
            name=f"{context.name}-operate-database",
            role=role.id,
            policy=policy_document(
                {
                    "Sid": "ReadMasterSecret",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": self.master_secret_arn,
                },
                {
                    "Sid": "DecryptMasterSecret",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": self.kms_key.arn,
                    "Condition": via_service("secretsmanager", context.region),
                },
                {
                    "Sid": "FindTheDatabase",
                    "Effect": "Allow",
                    "Action": "rds:DescribeDBInstances",
                    "Resource": account.arn("rds", f"db:{context.name}-db", context.region),
                },
                read_parameters_statement(context, self.parameter_path),
                decrypt_parameters_statement(context, self.kms_key.arn),
            ),
        )
        return role

    def allow_from(self, client: Connectable) -> None:
        """Let ``client`` reach the database port: ingress here, egress on the client's group."""
        engine, label = self.settings.engine, client.connection_label
        open_port(
            self,
            self.port,
            to_group=self.security_group.id,
            from_group=client.security_group_id,
            ingress=("ingress-from-clients", f"{engine} from the {label}"),
            egress=("client-egress-to-database", f"{label.capitalize()} to the {engine} database"),
        )
        self.network.open_tier_port(self.port, from_tier=client.subnet_tier, to_tier="private-data", what=engine)

    def grant_connect(self, role: Grantee) -> None:
        """Let ``role`` find the database and log in as the app's user with IAM authentication on the
        primary and every replica: ``rds-db:connect`` on that one database user, never the master secret."""
        context = self.context
        database_users = [
            context.account.arn("rds-db", f"dbuser:{instance.resource_id}/{self.settings.app_username}", context.region)
            for instance in (self.primary, *self.replicas)
        ]
        IamRolePolicy(
            self,
            "client-read-policy",
            name=f"{context.name}-read-database-connection",
            role=role.name,
            policy=policy_document(
                read_parameters_statement(context, self.parameter_path),
                decrypt_parameters_statement(context, self.kms_key.arn),
                {"Sid": "ConnectAsAppUser", "Effect": "Allow", "Action": "rds-db:connect", "Resource": database_users},
            ),
        )
