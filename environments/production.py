"""What a production stage must have, in one table.

Each row names the field an error points at, the condition every production stage file must
meet, why, and what is allowed. The tiers' own settings checks (``modules/``) hold for every
stage; these rows add what only production needs: surviving an AZ's loss, HTTPS and a WAF in
front, backups and protection against deletion, copies outside the region, someone to hear the alarms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.settings import Problems

if TYPE_CHECKING:
    from environments import StageConfig


@dataclass(frozen=True)
class ProductionRule:
    #: ``section.field`` the error names (its value is quoted).
    field: str
    #: True when a production stage file is acceptable.
    holds: Callable[[StageConfig], bool]
    why: str
    allowed: str

    def value(self, config: StageConfig) -> Any:
        section, name = self.field.split(".")
        value = getattr(getattr(config, section), name)
        return list(value) if isinstance(value, tuple) else value


NOT_ALLOWED = "not allowed in production"

PRODUCTION_RULES: tuple[ProductionRule, ...] = (
    ProductionRule(
        "stage.account",
        lambda c: c.stage.account is not None,
        "a production stage must name the AWS account it runs in, or its provider would run in any account",
        "the name of a production account in environments/_accounts.toml",
    ),
    ProductionRule(
        "network.azs",
        lambda c: len(c.network.azs) >= 3,
        "fewer AZs than a production stage needs",
        "at least 3 distinct AZs (production stage; the ALB needs 2, prod needs 3)",
    ),
    ProductionRule(
        "network.nat_gateways",
        lambda c: c.network.nat_gateways == "per_az",
        "a production stage must not lose egress with one AZ",
        "'per_az' in a production stage",
    ),
    ProductionRule(
        "load_balancer.certificate_arn",
        lambda c: c.load_balancer.https,
        "a production stage must serve HTTPS and has no certificate source",
        "certificate_arn (an ACM ARN) or domain_name + hosted_zone_name in a production stage",
    ),
    ProductionRule(
        "load_balancer.deletion_protection",
        lambda c: c.load_balancer.deletion_protection,
        "a production ALB must not be deletable",
        "true in a production stage",
    ),
    ProductionRule(
        "load_balancer.waf_enabled",
        lambda c: c.load_balancer.waf_enabled,
        "a production ALB must sit behind the WAF",
        "true in a production stage",
    ),
    ProductionRule(
        "app_servers.min_size",
        lambda c: c.app_servers.min_size >= 2,
        "a production fleet must survive one instance's loss",
        "at least 2 in a production stage",
    ),
    ProductionRule(
        "app_servers.instance_types",
        lambda c: c.app_servers.mixed_instances or c.app_servers.warm_pool,
        "a production fleet needs a second capacity pool (several instance types: FSBP AutoScaling.6, a launch"
        " still succeeds when one type runs out) or pre-initialised instances (a warm pool, one type only: AWS"
        " allows no warm pool with a mixed instances policy); prod runs the types, the warm pool trades"
        " AutoScaling.6 for faster scale-out",
        "2 or more instance types of one architecture and size, or a single type with warm_pool = true",
    ),
    ProductionRule(
        "app_servers.predictive_scaling",
        lambda c: c.app_servers.predictive_scaling == "ForecastAndScale",
        "a production fleet must be launched ahead of the daily and seasonal booking curve",
        "'ForecastAndScale' in a production stage",
    ),
    ProductionRule(
        "app_servers.target_protocol",
        lambda c: c.app_servers.https,
        "traffic from the ALB to the app servers must be encrypted (FSBP ELB.21, ELB.22)",
        "'HTTPS' in a production stage",
    ),
    ProductionRule(
        "network.interface_endpoints",
        lambda c: c.network.interface_endpoints,
        "a production stage must reach its secrets and logs without the NAT gateways (FSBP EC2.10)",
        "true in a production stage",
    ),
    ProductionRule("database.multi_az", lambda c: c.database.multi_az, NOT_ALLOWED, "true in a production stage"),
    ProductionRule(
        "database.read_replicas", lambda c: c.database.read_replicas >= 1, NOT_ALLOWED, "1 to 5 in a production stage"
    ),
    ProductionRule(
        "database.backup_retention_days",
        lambda c: c.database.backup_retention_days >= 7,
        NOT_ALLOWED,
        "7 to 35 in a production stage",
    ),
    ProductionRule(
        "database.deletion_protection",
        lambda c: c.database.deletion_protection,
        NOT_ALLOWED,
        "true in a production stage",
    ),
    ProductionRule(
        "database.monitoring_interval_seconds",
        lambda c: c.database.monitoring_interval_seconds > 0,
        NOT_ALLOWED,
        "1, 5, 10, 15, 30 or 60 in a production stage",
    ),
    ProductionRule("database.audit_log", lambda c: c.database.audit_log, NOT_ALLOWED, "true in a production stage"),
    ProductionRule(
        "database.instance_class",
        lambda c: c.database.performance_insights,
        NOT_ALLOWED,
        "a class with Performance Insights in a production stage (for mysql not db.t2/t3/t4g"
        " micro or small), e.g. 'db.r7g.large'",
    ),
    ProductionRule(
        "cache.automatic_failover", lambda c: c.cache.automatic_failover, NOT_ALLOWED, "true in a production stage"
    ),
    ProductionRule(
        "cache.snapshot_retention_days",
        lambda c: c.cache.snapshot_retention_days >= 1,
        NOT_ALLOWED,
        "1 to 35 in a production stage",
    ),
    ProductionRule(
        "static_assets.cloudfront_enabled",
        lambda c: c.static_assets.cloudfront_enabled,
        "a production stage serves its assets through CloudFront",
        "true in a production stage",
    ),
    ProductionRule(
        "static_assets.domain_name",
        lambda c: c.static_assets.custom_certificate,
        "a production CDN must serve on its own domain: the *.cloudfront.net certificate is fixed at TLSv1",
        "domain_name + hosted_zone_name (or certificate_arn + aliases) in a production stage",
    ),
    ProductionRule(
        "static_assets.waf_enabled",
        lambda c: c.static_assets.waf_enabled,
        "a production CDN must sit behind the WAF",
        "true in a production stage",
    ),
    ProductionRule(
        "stage.dr_region",
        lambda c: c.stage.dr_region is not None,
        "a production stage must keep a copy of its data outside its region",
        "a second AWS region in a production stage, e.g. 'eu-central-1'",
    ),
    ProductionRule(
        "backup.vault_lock",
        lambda c: c.backup.vault_lock == "compliance",
        "production backups must survive a compromised account: only a compliance lock cannot be removed",
        "'compliance' in a production stage",
    ),
    ProductionRule(
        "backup.continuous_backup",
        lambda c: c.backup.continuous_backup,
        NOT_ALLOWED,
        "true in a production stage (point-in-time restore through AWS Backup)",
    ),
    ProductionRule(
        "backup.restore_testing",
        lambda c: c.backup.restore_testing,
        "an untested backup is not a backup",
        "true in a production stage",
    ),
    ProductionRule(
        "backup.replicate_database_backups",
        lambda c: c.backup.replicate_database_backups,
        NOT_ALLOWED,
        "true in a production stage (point-in-time restore in the DR region)",
    ),
    ProductionRule(
        "monitoring.alarm_emails",
        lambda c: bool(c.monitoring.alarm_emails),
        "nobody would hear a production alarm",
        "at least one e-mail address in a production stage",
    ),
)


def check_production(config: StageConfig, problems: Problems) -> None:
    """Every production rule the stage breaks, as problems (nothing for a non-production stage)."""
    if not config.production:
        return
    for rule in PRODUCTION_RULES:
        if not rule.holds(config):
            problems.add(rule.field, rule.value(config), rule.why, rule.allowed)
