"""Database tier, per stage: placement, encryption, backups, replicas, TLS, access, discovery."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from environments import load_stage
from modules.database import BookingDatabase, DatabaseSettings, performance_insights_supported
from tests.constructs import network_for, synth_construct
from tests.tf_json import SynthesizedStack, refers_to


def primary(stack):
    return next(i for i in stack.resources("aws_db_instance").values() if "replicate_source_db" not in i)


def replicas(stack):
    return [i for i in stack.resources("aws_db_instance").values() if "replicate_source_db" in i]


def db_security_group_name(stack):
    (name,) = [
        n
        for n in stack.resources("aws_security_group")
        if refers_to(primary(stack)["vpc_security_group_ids"], "aws_security_group", n)
    ]
    return name


def app_security_group_name(stack):
    """The app servers' group: the one their launch template's network interface uses."""
    (interface,) = stack.only("aws_launch_template")["network_interfaces"]
    (name,) = [
        n
        for n in stack.resources("aws_security_group")
        if refers_to(interface["security_groups"], "aws_security_group", n)
    ]
    return name


def topic_name(stack, suffix):
    """Terraform name of the stage's SNS topic named ``<stage>-<suffix>``."""
    (name,) = [n for n, t in stack.resources("aws_sns_topic").items() if t["name"].endswith(f"-{suffix}")]
    return name


def app_role(stack):
    """The app servers' instance role (name, config)."""
    for name, role in stack.resources("aws_iam_role").items():
        if json.loads(role["assume_role_policy"])["Statement"][0].get("Principal") == {"Service": "ec2.amazonaws.com"}:
            return name, role
    raise AssertionError("no EC2 instance role")


def refers_to_key(stack):
    """The database tier's KMS key: the one encrypting the primary's storage."""
    (name,) = [n for n in stack.resources("aws_kms_key") if refers_to(primary(stack)["kms_key_id"], "aws_kms_key", n)]
    return name


def covers(rule, port):
    if rule["ip_protocol"] == "-1":
        return True
    return rule["ip_protocol"] == "tcp" and rule["from_port"] <= port <= rule["to_port"]


def test_engine_class_and_storage_follow_the_stage(stage_stack):
    db, config = primary(stage_stack), load_stage(stage_stack.stage).database
    assert (db["engine"], db["engine_version"], db["instance_class"]) == ("mysql", "8.4", config.instance_class)
    assert db["allocated_storage"] == config.allocated_storage_gb
    assert db["max_allocated_storage"] == config.max_allocated_storage_gb


def test_instances_stay_out_of_paid_extended_support(stage_stack):
    """RDS for MySQL 8.0 left standard support on 2026-07-31 and RDS enrols instances past it in paid
    Extended Support by default ("Using Amazon RDS Extended Support", RDS User Guide). With
    EngineLifecycleSupport = open-source-rds-extended-support-disabled "creating the DB instance will fail
    if the DB major version is past its end of standard support date" (CreateDBInstance, RDS API
    Reference). Read replicas take no such setting (CreateDBInstanceReadReplica: "All other DB instance
    attributes ... are inherited from the source DB instance"), so only the primary sets it."""
    assert primary(stage_stack)["engine_lifecycle_support"] == "open-source-rds-extended-support-disabled"
    assert all("engine_lifecycle_support" not in replica for replica in replicas(stage_stack))


def test_storage_is_gp3_encrypted_with_the_tier_key(stage_stack):
    db = primary(stage_stack)
    assert db["storage_type"] == "gp3" and db["storage_encrypted"] is True and "aws_kms_key" in db["kms_key_id"]


def test_database_lives_in_the_private_data_subnets_and_is_not_public(stage_stack):
    db = primary(stage_stack)
    assert db["publicly_accessible"] is False
    group = next(
        g
        for n, g in stage_stack.resources("aws_db_subnet_group").items()
        if refers_to(db["db_subnet_group_name"], "aws_db_subnet_group", n)
    )
    data_subnets = {n for n, s in stage_stack.resources("aws_subnet").items() if s["tags"]["tier"] == "private-data"}
    assert {n for n in data_subnets if refers_to(group["subnet_ids"], "aws_subnet", n)} == data_subnets
    assert len(group["subnet_ids"]) == len(data_subnets)


def test_master_password_is_managed_by_secrets_manager(stage_stack):
    db = primary(stage_stack)
    assert db["manage_master_user_password"] is True and "password" not in db
    assert db["username"] not in ("admin", "root", "postgres")


def test_backups_snapshots_and_windows(stage_stack):
    db, config = primary(stage_stack), load_stage(stage_stack.stage).database
    assert db["backup_retention_period"] == config.backup_retention_days
    assert db["backup_window"] and db["maintenance_window"] and db["copy_tags_to_snapshot"] is True
    assert db["skip_final_snapshot"] is False and db["final_snapshot_identifier"].startswith(db["identifier"])


def test_prod_is_multi_az_protected_and_keeps_backups_a_week(prod):
    db = primary(prod)
    assert db["multi_az"] is True and db["deletion_protection"] is True and db["backup_retention_period"] >= 7
    assert db["lifecycle"]["prevent_destroy"] is True


def test_dev_is_single_az_and_deletable(dev):
    db = primary(dev)
    assert db["multi_az"] is False and db["deletion_protection"] is False


def test_replica_count_follows_the_stage(stage_stack):
    assert len(replicas(stage_stack)) == load_stage(stage_stack.stage).database.read_replicas


def test_prod_has_at_least_one_replica(prod):
    assert len(replicas(prod)) >= 1


def test_replicas_are_as_hardened_as_the_primary(stage_stack):
    db = primary(stage_stack)
    for replica in replicas(stage_stack):
        for key in (
            "instance_class",
            "kms_key_id",
            "vpc_security_group_ids",
            "parameter_group_name",
            "performance_insights_enabled",
            "performance_insights_kms_key_id",
            "monitoring_interval",
            "monitoring_role_arn",
            "enabled_cloudwatch_logs_exports",
            "iam_database_authentication_enabled",
            "deletion_protection",
            "publicly_accessible",
            "storage_type",
            "max_allocated_storage",
            "storage_encrypted",
            "ca_cert_identifier",
            "copy_tags_to_snapshot",
        ):
            assert replica[key] == db[key], key
        assert "aws_db_instance" in replica["replicate_source_db"]
        assert "manage_master_user_password" not in replica  # AWS rejects it on a replica


def test_replicas_spread_over_the_other_azs(prod):
    azs = load_stage("prod").network.azs
    assert sorted(r["availability_zone"] for r in replicas(prod)) == sorted(azs[1:])


def parameter_group(stack):
    return next(
        g
        for n, g in stack.resources("aws_db_parameter_group").items()
        if refers_to(primary(stack)["parameter_group_name"], "aws_db_parameter_group", n)
    )


def test_parameter_group_forces_tls(stage_stack):
    group = parameter_group(stage_stack)
    assert group["family"] == "mysql8.4"
    assert {"name": "require_secure_transport", "value": "1", "apply_method": "immediate"} in group["parameter"]


def test_mysql_writes_its_logs_to_files_so_rds_can_publish_them(stage_stack):
    """ "Publishing MySQL logs to Amazon CloudWatch Logs" (RDS User Guide): "The DB instance must use a
    custom parameter group with the parameter setting log_output = FILE to write logs to the file system
    and publish them to CloudWatch Logs"; the slow query log needs slow_query_log = 1, and the IAM
    database authentication errors the log type iam-db-auth-error."""
    parameters = {p["name"]: p["value"] for p in parameter_group(stage_stack)["parameter"]}
    assert parameters["log_output"] == "FILE" and parameters["slow_query_log"] == "1"
    for instance in (primary(stage_stack), *replicas(stage_stack)):
        assert {"error", "slowquery", "iam-db-auth-error"} <= set(instance["enabled_cloudwatch_logs_exports"])


def test_mysql_audit_log_comes_from_the_mariadb_audit_plugin_option_group(stage_stack):
    """ "Publishing MySQL logs to Amazon CloudWatch Logs" (RDS User Guide): for the audit log "The DB
    instance must use a custom option group with the MARIADB_AUDIT_PLUGIN option"; "Options for MySQL DB
    instances" lists the plugin for all MySQL 8.4 versions. Every instance uses the group and exports
    ``audit`` into a retained log group (on in every shipped stage; production requires it)."""
    option_group = stage_stack.only("aws_db_option_group")
    assert (option_group["engine_name"], option_group["major_engine_version"]) == ("mysql", "8.4")
    (option,) = option_group["option"]
    assert option["option_name"] == "MARIADB_AUDIT_PLUGIN"
    events = {s["name"]: s["value"] for s in option["option_settings"]}["SERVER_AUDIT_EVENTS"]
    assert set(events.split(",")) == {"CONNECT", "QUERY_DDL", "QUERY_DCL"}  # never QUERY: guests' data
    name = next(iter(stage_stack.resources("aws_db_option_group")))
    groups = {g["name"] for g in stage_stack.resources("aws_cloudwatch_log_group").values()}
    for instance in (primary(stage_stack), *replicas(stage_stack)):
        assert refers_to(instance["option_group_name"], "aws_db_option_group", name)
        assert "audit" in instance["enabled_cloudwatch_logs_exports"]
        assert f"/aws/rds/instance/{instance['identifier']}/audit" in groups


def test_parameter_group_turns_on_the_exported_slow_query_log(stage_stack):
    parameters = {p["name"]: p["value"] for p in parameter_group(stage_stack)["parameter"]}
    assert parameters["slow_query_log"] == "1" and float(parameters["long_query_time"]) > 0
    assert "slowquery" in primary(stage_stack)["enabled_cloudwatch_logs_exports"]
    assert "general" not in primary(stage_stack)["enabled_cloudwatch_logs_exports"]  # never turned on


def test_performance_insights_on_wherever_rds_offers_it(stage_stack):
    db, config = primary(stage_stack), load_stage(stage_stack.stage).database
    if performance_insights_supported(config.engine, config.instance_class):
        assert db["performance_insights_enabled"] is True and "aws_kms_key" in db["performance_insights_kms_key_id"]
        assert db["performance_insights_retention_period"] == config.performance_insights_retention_days
    else:  # MySQL on a micro/small burstable class: RDS rejects the create if PI is asked for
        assert db["performance_insights_enabled"] is False and "performance_insights_kms_key_id" not in db


def test_prod_and_staging_have_performance_insights(stacks):
    for stage in ("staging", "prod"):
        assert primary(stacks[f"digital-booking-{stage}"])["performance_insights_enabled"] is True


def test_performance_insights_support_follows_rds_instance_classes():
    assert not performance_insights_supported("mysql", "db.t4g.micro")
    assert not performance_insights_supported("mysql", "db.t3.small")
    assert performance_insights_supported("mysql", "db.t4g.medium")
    assert performance_insights_supported("mysql", "db.r7g.large")
    assert performance_insights_supported("postgres", "db.t4g.micro")


def test_enhanced_monitoring_has_its_role(stage_stack):
    db = primary(stage_stack)
    assert db["monitoring_interval"] > 0
    (role,) = [
        r
        for n, r in stage_stack.resources("aws_iam_role").items()
        if refers_to(db["monitoring_role_arn"], "aws_iam_role", n)
    ]
    principal = json.loads(role["assume_role_policy"])["Statement"][0]["Principal"]
    assert principal == {"Service": "monitoring.rds.amazonaws.com"}


def test_every_exported_log_has_a_log_group_with_retention(stage_stack):
    config = load_stage(stage_stack.stage).database
    groups = {g["name"]: g for g in stage_stack.resources("aws_cloudwatch_log_group").values()}
    for instance in stage_stack.resources("aws_db_instance").values():
        assert instance["enabled_cloudwatch_logs_exports"]
        for log in instance["enabled_cloudwatch_logs_exports"]:
            group = groups[f"/aws/rds/instance/{instance['identifier']}/{log}"]
            assert group["retention_in_days"] == config.log_retention_days


def test_every_rds_event_of_the_stage_reaches_the_alarm_topic(stage_stack):
    """ "Amazon RDS event categories and event messages" (RDS User Guide): events come per source type;
    a subscription without categories gets every category (CreateEventSubscription, RDS API Reference),
    configuration change included. Security Hub RDS.20, RDS.21 and RDS.22 ask for subscriptions on DB
    instances (maintenance, configuration change, failure), parameter groups (configuration change) and
    DB security groups (configuration change, failure)."""
    subscriptions = {s["source_type"]: s for s in stage_stack.resources("aws_db_event_subscription").values()}
    assert set(subscriptions) == {"db-instance", "db-parameter-group", "db-security-group"}
    for subscription in subscriptions.values():
        assert "event_categories" not in subscription  # all of them
        assert refers_to(subscription["sns_topic"], "aws_sns_topic", topic_name(stage_stack, "alarms"))
    instances = subscriptions["db-instance"]["source_ids"]
    assert len(instances) == len(stage_stack.resources("aws_db_instance"))
    for name in stage_stack.resources("aws_db_instance"):  # by reference: it waits for every instance it names
        assert refers_to(instances, "aws_db_instance", name)
    (group,) = stage_stack.resources("aws_db_parameter_group")
    assert refers_to(subscriptions["db-parameter-group"]["source_ids"], "aws_db_parameter_group", group)


def test_only_the_app_servers_reach_the_database_port(stage_stack):
    sg = db_security_group_name(stage_stack)
    rules = [
        r
        for r in stage_stack.resources("aws_vpc_security_group_ingress_rule").values()
        if refers_to(r["security_group_id"], "aws_security_group", sg)
    ]
    (rule,) = rules
    assert (rule["from_port"], rule["to_port"]) == (3306, 3306) and "cidr_ipv4" not in rule
    app_sg = next(n for n in stage_stack.resources("aws_security_group") if "app" in n and "load" not in n)
    assert refers_to(rule["referenced_security_group_id"], "aws_security_group", app_sg)
    assert not [
        r
        for r in stage_stack.resources("aws_vpc_security_group_egress_rule").values()
        if refers_to(r["security_group_id"], "aws_security_group", sg)
    ]


def test_no_other_rule_opens_a_database_port(stage_stack):
    """Across the whole stack: whatever ingress covers 3306 or 5432 comes from the app servers' group only."""
    app_sg = app_security_group_name(stage_stack)
    for port in (3306, 5432):
        for rule in stage_stack.resources("aws_vpc_security_group_ingress_rule").values():
            if covers(rule, port):
                assert refers_to(rule["referenced_security_group_id"], "aws_security_group", app_sg), rule
                assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule), rule
        for group in stage_stack.resources("aws_security_group").values():
            assert not group.get("ingress"), "inline ingress rules hide from this check"


def test_app_servers_get_a_described_egress_rule_to_the_database_only(stage_stack):
    app_sg, db_sg = app_security_group_name(stage_stack), db_security_group_name(stage_stack)
    (rule,) = [
        r
        for r in stage_stack.resources("aws_vpc_security_group_egress_rule").values()
        if refers_to(r.get("referenced_security_group_id", ""), "aws_security_group", db_sg)
    ]
    assert refers_to(rule["security_group_id"], "aws_security_group", app_sg)
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 3306, 3306) and rule["description"]
    assert stage_stack.resources("aws_security_group")[db_sg]["description"]


def test_connection_details_are_published_without_secret_values(stage_stack):
    parameters = {
        p["name"].rsplit("/", 1)[1]: p
        for p in stage_stack.resources("aws_ssm_parameter").values()
        if "/database/" in p["name"]
    }
    assert set(parameters) == {"endpoint", "reader-endpoints", "port", "name", "user", "authentication"}
    assert parameters["user"]["value"] == load_stage(stage_stack.stage).database.app_username
    assert parameters["authentication"]["value"] == "iam"
    assert not any("master_user_secret" in p["value"] for p in parameters.values())
    key = refers_to_key(stage_stack)
    assert all(p["type"] == "SecureString" and refers_to(p["key_id"], "aws_kms_key", key) for p in parameters.values())


def test_app_connects_as_its_own_database_user_with_iam_authentication(stage_stack):
    """ "Creating and using an IAM policy for IAM database access" (RDS User Guide): the action
    ``rds-db:connect`` on ``arn:aws:rds-db:region:account-id:dbuser:DbiResourceId/db-user-name``, where
    DbiResourceId is the instance's resource id (not its name): one statement for the app's user on the
    primary and on every replica, and IAM authentication switched on for each of them."""
    (policy,) = [
        p
        for p in stage_stack.resources("aws_iam_role_policy").values()
        if p["name"].endswith("read-database-connection")
    ]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert set(statements) == {"ReadConnectionParameters", "DecryptConnectionParameters", "ConnectAsAppUser"}
    assert all(r.endswith(("/database", "/database/*")) for r in statements["ReadConnectionParameters"]["Resource"])
    assert statements["DecryptConnectionParameters"]["Condition"]["StringEquals"]["kms:ViaService"].startswith("ssm.")
    connect = statements["ConnectAsAppUser"]
    assert connect["Action"] == "rds-db:connect"
    user = load_stage(stage_stack.stage).database.app_username
    instances = stage_stack.resources("aws_db_instance")
    assert len(connect["Resource"]) == len(instances)
    for name, instance in instances.items():
        assert instance["iam_database_authentication_enabled"] is True
        account = "${data.aws_caller_identity.account.account_id}"
        arn = (
            f"arn:${{data.aws_partition.partition.partition}}:rds-db:eu-west-1:{account}"
            f":dbuser:${{aws_db_instance.{name}.resource_id}}/{user}"
        )
        assert arn in connect["Resource"]


def test_the_app_never_holds_the_master_credentials(stage_stack):
    """The master user owns every database (RDS User Guide, "Master user account privileges"): the app's
    role gets no Secrets Manager action and no decryption through Secrets Manager, in any policy."""
    role_name, _ = app_role(stage_stack)
    for policy in stage_stack.resources("aws_iam_role_policy").values():
        if refers_to(policy["role"], "aws_iam_role", role_name):
            text = policy["policy"]
            assert "secretsmanager" not in text and "master_user_secret" not in text, policy["name"]


def test_only_the_operator_role_may_read_the_master_secret_and_only_with_mfa(stage_stack):
    """ "Password management with Amazon RDS and AWS Secrets Manager" (RDS User Guide): the master password
    is read with secretsmanager:GetSecretValue on the secret, decrypted with its KMS key. Exactly one role
    of the stack is granted that: the database operators', assumed only with MFA."""
    readers = [
        p
        for p in stage_stack.resources("aws_iam_role_policy").values()
        if "secretsmanager:GetSecretValue" in p["policy"]
    ]
    (policy,) = readers
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert "master_user_secret" in statements["ReadMasterSecret"]["Resource"]
    assert statements["DecryptMasterSecret"]["Condition"]["StringEquals"]["kms:ViaService"].startswith(
        "secretsmanager."
    )
    (role_name,) = [n for n in stage_stack.resources("aws_iam_role") if refers_to(policy["role"], "aws_iam_role", n)]
    role = stage_stack.resources("aws_iam_role")[role_name]
    assert role["name"].endswith("-db-operator")
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert "arn:${data.aws_partition.partition.partition}:iam::" in trust["Principal"]["AWS"]


def test_operators_may_only_port_forward_through_the_app_servers(stage_stack):
    """ "Restrict access to commands in a session" / port forwarding (Systems Manager User Guide): a session
    needs ssm:StartSession on the instance and on the session document; allowing only
    AWS-StartPortForwardingSessionToRemoteHost gives no shell and runs no command on the instance."""
    (policy,) = [
        p
        for p in stage_stack.resources("aws_iam_role_policy").values()
        if p["name"].endswith("port-forward-through-app-servers")
    ]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["OnlyTheRemoteHostPortForwardingDocument"]["Resource"].endswith(
        ":document/AWS-StartPortForwardingSessionToRemoteHost"
    )
    instances = statements["ForwardPortsThroughAppServers"]
    assert instances["Condition"] == {
        "StringEquals": {"ssm:resourceTag/Name": f"digital-booking-{stage_stack.stage}-app"}
    }
    actions = {a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"ssm:StartSession", "ssm:TerminateSession", "ssm:ResumeSession", "ec2:DescribeInstances"}
    assert "$${aws:userid}" in statements["EndOwnSessions"]["Resource"]  # an IAM variable, not interpolated


def test_endpoints_are_stack_outputs(stage_stack):
    outputs = stage_stack.outputs()
    assert "aws_db_instance" in outputs["db_endpoint"]["value"]
    assert len(outputs["db_reader_endpoints"]["value"]) == len(replicas(stage_stack))


# --- PostgreSQL 16 (supported, shipped by no stage yet): synthesized alone --------------------

#: What the database admits and grants to, as the app servers would (a security group and a role).
CLIENT = SimpleNamespace(security_group_id="sg-0app", connection_label="app servers", subnet_tier="private-app")
CLIENT_ROLE = SimpleNamespace(name="app-role", id="app-role")
POSTGRES = DatabaseSettings(engine="postgres", engine_version="16.4", read_replicas=1)


def database_alone(settings: DatabaseSettings) -> tuple[BookingDatabase, SynthesizedStack]:
    """One BookingDatabase in a throwaway stack, admitting and granting CLIENT, for settings no stage uses."""

    def build(scope, stage):
        database = BookingDatabase(scope, "database", settings, stage, network=network_for(scope, stage))
        database.allow_from(CLIENT)
        database.grant_connect(CLIENT_ROLE)
        return database

    return synth_construct(build)


@pytest.fixture(scope="module")
def postgres():
    return database_alone(POSTGRES)[1]


def test_postgres_gets_its_own_family_tls_parameter_slow_log_and_pgaudit(postgres):
    """ "Using pgAudit to log database activity" (RDS User Guide): pgaudit goes into
    shared_preload_libraries, a static parameter, and pgaudit.log chooses what is audited; its records
    land in the exported postgresql log."""
    group = postgres.only("aws_db_parameter_group")
    parameters = {p["name"]: p["value"] for p in group["parameter"]}
    assert group["family"] == "postgres16"
    assert parameters == {
        "rds.force_ssl": "1",
        "log_min_duration_statement": "2000",
        "shared_preload_libraries": "pg_stat_statements,pgaudit",
        "pgaudit.log": "ddl,role",
    }
    assert postgres.resources("aws_db_option_group") == {}  # the MariaDB plugin is MySQL's


def test_static_parameters_wait_for_a_reboot(postgres):
    """ "Working with DB parameter groups" (RDS User Guide): static parameters take effect only after a
    reboot, and RDS refuses the ``immediate`` apply method for them (InvalidParameterCombination):
    shared_preload_libraries is static."""
    methods = {p["name"]: p["apply_method"] for p in postgres.only("aws_db_parameter_group")["parameter"]}
    assert methods["shared_preload_libraries"] == "pending-reboot"
    assert {m for n, m in methods.items() if n != "shared_preload_libraries"} == {"immediate"}


def test_postgres_exports_its_own_logs_into_retained_groups(postgres):
    groups = {g["name"] for g in postgres.resources("aws_cloudwatch_log_group").values()}
    logs = ("postgresql", "upgrade", "iam-db-auth-error")
    for instance in postgres.resources("aws_db_instance").values():
        assert instance["enabled_cloudwatch_logs_exports"] == list(logs)
        assert {f"/aws/rds/instance/{instance['identifier']}/{log}" for log in logs} <= groups


def test_postgres_listens_on_5432_for_the_client_group_only(postgres):
    assert primary(postgres)["port"] == 5432 and all(r["port"] == 5432 for r in replicas(postgres))
    ingress = postgres.only("aws_vpc_security_group_ingress_rule")
    egress = postgres.only("aws_vpc_security_group_egress_rule")
    assert (ingress["from_port"], ingress["to_port"]) == (5432, 5432)
    assert ingress["referenced_security_group_id"] == "sg-0app"
    assert (egress["security_group_id"], egress["from_port"], egress["to_port"]) == ("sg-0app", 5432, 5432)


def test_postgres_replica_sets_no_password_and_no_backups(postgres):
    (replica,) = replicas(postgres)
    assert "manage_master_user_password" not in replica and replica["backup_retention_period"] == 0
    assert primary(postgres)["manage_master_user_password"] is True


def test_unknown_engine_is_refused_by_the_construct():
    with pytest.raises(ValueError, match="engine = 'oracle': not a supported engine; allowed: 'mysql' or 'postgres'"):
        database_alone(DatabaseSettings(engine="oracle"))


def test_postgres_stack_validates_with_the_real_provider(postgres, tmp_path):
    from tools import terraform_cli

    (tmp_path / "cdk.tf.json").write_text(json.dumps(postgres.json))
    terraform_cli.init_offline(tmp_path)
    result = terraform_cli.run(["validate", "-json", "-no-color"], cwd=tmp_path, check=False)
    report = json.loads(result.stdout)
    assert report["valid"] is True, json.dumps(report["diagnostics"], indent=1)


@pytest.fixture(scope="module")
def postgres_stage():
    """The dev stage switched to PostgreSQL 16 on a custom port, built by the real StageStack."""
    from cdktf import Testing

    from environments import load_state_backend, parse_stage
    from stacks.stage_stack import StageStack
    from tests.environments.stage_edits import shipped

    raw = shipped("dev")
    raw["database"].update(engine="postgres", engine_version="16", port=6543)
    stack = StageStack(Testing.app(), parse_stage("dev", raw, "environments/dev.toml"), load_state_backend())
    return SynthesizedStack("digital-booking-dev", json.loads(Testing.synth(stack)))


def test_postgres_stage_opens_its_port_to_the_app_servers_only(postgres_stage):
    app_sg, db_sg = app_security_group_name(postgres_stage), db_security_group_name(postgres_stage)
    assert primary(postgres_stage)["engine"] == "postgres" and primary(postgres_stage)["port"] == 6543
    (ingress,) = [
        r for r in postgres_stage.resources("aws_vpc_security_group_ingress_rule").values() if covers(r, 6543)
    ]
    assert refers_to(ingress["security_group_id"], "aws_security_group", db_sg)
    assert refers_to(ingress["referenced_security_group_id"], "aws_security_group", app_sg)
    (egress,) = [
        r
        for r in postgres_stage.resources("aws_vpc_security_group_egress_rule").values()
        if refers_to(r.get("referenced_security_group_id", ""), "aws_security_group", db_sg)
    ]
    assert (egress["from_port"], egress["to_port"]) == (6543, 6543)
    assert refers_to(egress["security_group_id"], "aws_security_group", app_sg)
    assert not [
        r
        for r in postgres_stage.resources("aws_vpc_security_group_ingress_rule").values()
        if covers(r, 3306) or covers(r, 5432)
    ]
