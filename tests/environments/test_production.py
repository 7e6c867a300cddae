"""The production rules table: a production stage file must meet each row, other stages need not."""

from __future__ import annotations

from environments import load_stage, load_stages, parse_stage
from tests.environments.stage_edits import rejection, rejection_of_edit, shipped


def test_prod_serves_https_from_its_example_domain():
    lb = load_stage("prod").load_balancer
    assert lb.https and lb.domain_name.endswith("." + lb.hosted_zone_name)
    assert lb.waf_enabled and lb.deletion_protection


def test_prod_fleet_survives_an_instance_loss():
    assert load_stage("prod").app_servers.min_size >= 2


def test_prod_without_a_certificate_source_is_rejected():
    message = rejection("prod", "load_balancer", domain_name=None, hosted_zone_name=None)
    assert (
        "environments/prod.toml: load_balancer.certificate_arn = None: a production stage must serve HTTPS" in message
    )
    assert "allowed: certificate_arn (an ACM ARN) or domain_name + hosted_zone_name in a production stage" in message


def test_prod_without_waf_or_deletion_protection_is_rejected():
    message = rejection("prod", "load_balancer", waf_enabled=False, deletion_protection=False)
    assert "load_balancer.waf_enabled = False: a production ALB must sit behind the WAF; allowed: true" in message
    assert "load_balancer.deletion_protection = False: a production ALB must not be deletable" in message


def test_prod_with_a_single_instance_is_rejected():
    message = rejection("prod", "app_servers", min_size=1, desired_capacity=1)
    assert (
        "environments/prod.toml: app_servers.min_size = 1: a production fleet must survive one instance's loss"
        in message
    )
    assert "allowed: at least 2 in a production stage" in message


def test_prod_database_is_multi_az_with_replicas_and_protected():
    db = load_stage("prod").database
    assert db.multi_az and db.read_replicas >= 1 and db.deletion_protection and db.backup_retention_days >= 7


def test_prod_backup_retention_below_7_is_rejected():
    message = rejection("prod", "database", backup_retention_days=3)
    assert "environments/prod.toml: database.backup_retention_days = 3: not allowed in production" in message
    assert "allowed: 7 to 35 in a production stage" in message


def test_prod_without_replicas_is_rejected():
    message = rejection("prod", "database", read_replicas=0)
    assert "environments/prod.toml: database.read_replicas = 0: not allowed in production" in message
    assert "allowed: 1 to 5 in a production stage" in message


def test_prod_without_multi_az_is_rejected():
    message = rejection("prod", "database", multi_az=False)
    assert (
        "environments/prod.toml: database.multi_az = False: not allowed in production; "
        "allowed: true in a production stage"
    ) in message


def test_prod_without_deletion_protection_is_rejected():
    assert "database.deletion_protection = False: not allowed in production" in rejection(
        "prod", "database", deletion_protection=False
    )


def test_prod_cache_without_failover_is_rejected():
    assert "cache.automatic_failover = False: not allowed in production" in rejection(
        "prod", "cache", automatic_failover=False
    )


def test_prod_mysql_on_a_class_without_performance_insights_is_rejected():
    message = rejection("prod", "database", instance_class="db.t4g.small")
    assert "environments/prod.toml: database.instance_class = 'db.t4g.small': not allowed in production" in message
    assert "allowed: a class with Performance Insights in a production stage" in message


def test_outside_production_a_class_without_performance_insights_is_allowed():
    raw = shipped("staging")
    raw["database"]["instance_class"] = "db.t4g.small"
    assert parse_stage("staging", raw, "environments/staging.toml").database.instance_class == "db.t4g.small"


def test_prod_has_subscribers_and_cloudfront():
    config = load_stage("prod")
    assert config.monitoring.alarm_emails and config.static_assets.cloudfront_enabled


def test_prod_without_cloudfront_is_rejected():
    message = rejection("prod", "static_assets", cloudfront_enabled=False)
    assert "environments/prod.toml: static_assets.cloudfront_enabled = False" in message
    assert "allowed: true in a production stage" in message


def test_prod_without_alarm_subscribers_is_rejected():
    message = rejection("prod", "monitoring", alarm_emails=[])
    assert "environments/prod.toml: monitoring.alarm_emails = []: nobody would hear a production alarm" in message


def test_only_prod_is_production():
    assert {c.name: c.production for c in load_stages()} == {"dev": False, "staging": False, "prod": True}


def test_prod_with_two_azs_is_rejected():
    def two_azs(raw):
        for key in ("azs", "public_subnets", "private_app_subnets", "private_data_subnets"):
            raw["network"][key] = raw["network"][key][:2]

    message = rejection_of_edit("prod", two_azs)
    assert "environments/prod.toml: network.azs = ['eu-west-1a', 'eu-west-1b']" in message
    assert "allowed: at least 3 distinct AZs" in message


def test_prod_with_single_nat_is_rejected():
    message = rejection_of_edit("prod", lambda raw: raw["network"].update(nat_gateways="single"))
    assert "network.nat_gateways = 'single'" in message and "allowed: 'per_az' in a production stage" in message


def test_all_problems_of_a_file_come_in_one_message():
    def two_mistakes(raw):
        raw["network"]["vpc_cidr"] = "nonsense"
        raw["network"]["nat_gateways"] = "single"

    message = rejection_of_edit("prod", two_mistakes)
    assert message.startswith("2 problem(s) in stage file environments/prod.toml")


def test_prod_without_the_database_audit_log_is_rejected():
    assert "database.audit_log = False: not allowed in production; allowed: true in a production stage" in rejection(
        "prod", "database", audit_log=False
    )


def test_prod_without_a_dr_region_is_rejected():
    message = rejection("prod", "stage", dr_region=None)
    assert "environments/prod.toml: stage.dr_region = None: a production stage must keep a copy of its data" in message


def test_prod_with_a_removable_vault_lock_is_rejected():
    """Only compliance mode survives a compromised account (AWS Backup Vault Lock: governance-mode locks
    "can have the lock removed by users with sufficient IAM permissions")."""
    for mode in ("governance", "none"):
        message = rejection("prod", "backup", vault_lock=mode)
        assert f"backup.vault_lock = '{mode}': production backups must survive a compromised account" in message


def test_prod_without_continuous_backup_restore_tests_or_database_replication_is_rejected():
    message = rejection(
        "prod", "backup", continuous_backup=False, restore_testing=False, replicate_database_backups=False
    )
    assert "backup.continuous_backup = False: not allowed in production" in message
    assert "backup.restore_testing = False: an untested backup is not a backup" in message
    assert "backup.replicate_database_backups = False: not allowed in production" in message


def test_prod_cdn_without_its_own_domain_or_waf_is_rejected():
    message = rejection("prod", "static_assets", domain_name=None, hosted_zone_name=None, waf_enabled=False)
    assert "static_assets.domain_name = None: a production CDN must serve on its own domain" in message
    assert "static_assets.waf_enabled = False: a production CDN must sit behind the WAF" in message


def test_non_production_stages_may_go_without_copies_and_locks():
    dev = load_stage("dev")
    assert dev.stage.dr_region is None and dev.backup.vault_lock == "none"


# -- scale and private paths ---------------------------------------------------------------------------------


def test_prod_with_one_instance_type_and_no_warm_pool_is_rejected():
    message = rejection("prod", "app_servers", instance_types=["m7i.large"])
    assert "environments/prod.toml: app_servers.instance_types = ['m7i.large']: a production fleet needs a second" in (
        message
    )
    assert "allowed: 2 or more instance types of one architecture and size, or a single type with warm_pool" in (
        message
    )


def test_prod_may_trade_the_instance_types_for_a_warm_pool():
    """The warm pool is available to prod by choosing one type (it then gives up FSBP AutoScaling.6)."""
    raw = shipped("prod")
    raw["app_servers"].update(instance_types=["m7i.large"], warm_pool=True)
    assert parse_stage("prod", raw, "environments/prod.toml").app_servers.warm_pool


def test_prod_must_forecast_and_scale():
    message = rejection("prod", "app_servers", predictive_scaling="ForecastOnly")
    assert "app_servers.predictive_scaling = 'ForecastOnly': a production fleet must be launched ahead" in message


def test_prod_must_talk_https_to_its_targets():
    message = rejection("prod", "app_servers", target_protocol="HTTP")
    assert "app_servers.target_protocol = 'HTTP': traffic from the ALB to the app servers must be encrypted" in message


def test_prod_must_keep_its_api_traffic_off_the_nat():
    message = rejection("prod", "network", interface_endpoints=False)
    assert "network.interface_endpoints = False: a production stage must reach its secrets and logs" in message


def test_other_stages_may_keep_http_and_the_nat():
    for stage in ("dev", "staging"):
        config = load_stage(stage)
        assert not config.network.interface_endpoints
    assert load_stage("dev").app_servers.target_protocol == "HTTP"
