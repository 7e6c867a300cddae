"""Stage-file sections for static assets and monitoring: ``[static_assets]`` and ``[monitoring]``.

Data and value rules only (no AWS logic): the assets bucket's lifecycle and its CloudFront
distribution, and the stage's alarm subscribers and alarm thresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from environments.schema import Problems, StageSection, allowed, check_range

# Deliberately plain: one '@', a dotted domain with a 2+ letter TLD, no spaces or quotes.
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$")
CLOUDFRONT_ACM_ARN = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
DOMAIN_NAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ROOT_OBJECT = re.compile(r"^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$")
PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}/$")

# S3 lifecycle minimums: STANDARD_IA needs >= 30 days in Standard first, and an object must then
# stay 30 days in Standard-IA (its minimum storage duration) before the archive transition.
S3_IA_MINIMUM_DAYS = 30
S3_IA_MINIMUM_STAY_DAYS = 30


@dataclass(frozen=True)
class StaticAssetsSection:
    """[static_assets]: the private listing-media bucket, its lifecycle and its CloudFront front."""

    cloudfront_enabled: bool = field(default=True, metadata=allowed(
        "true or false: serve the bucket through CloudFront with origin access control (must be true in"
        " production; without it nobody outside the account can read the assets)"))
    transition_to_ia_days: int = field(default=30, metadata=allowed(
        "days after upload an object moves to Standard-IA, 30 (the S3 minimum) to 3650"))
    transition_to_archive_days: int = field(default=180, metadata=allowed(
        "days after upload an object moves to the archive class, at least transition_to_ia_days + 30"
        " (Standard-IA's minimum stay), up to 3650"))
    archive_storage_class: Literal["GLACIER_IR", "GLACIER"] = field(default="GLACIER_IR", metadata=allowed(
        "'GLACIER_IR' (Glacier Instant Retrieval: still served by CloudFront) or 'GLACIER' (Flexible Retrieval:"
        " objects must be restored before they can be served)"))
    noncurrent_version_expiration_days: int = field(default=90, metadata=allowed(
        "days an overwritten or deleted version is kept before it expires, 1 to 3650"))
    abort_incomplete_multipart_days: int = field(default=7, metadata=allowed(
        "days before an unfinished multipart upload is aborted, 1 to 365"))
    access_log_expiration_days: int = field(default=365, metadata=allowed(
        "days S3 and CloudFront access logs are kept, 1 to 3650"))
    upload_prefix: str = field(default="uploads/", metadata=allowed(
        "the key prefix the app servers may write to: lowercase letters, digits, '.', '_', '-', ending in '/'"))
    default_root_object: str = field(default="index.html", metadata=allowed(
        "an object key such as 'index.html' (served for '/')"))
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = field(
        default="PriceClass_100", metadata=allowed("'PriceClass_100', 'PriceClass_200' or 'PriceClass_All'"))
    certificate_arn: str | None = field(default=None, metadata=allowed(
        "an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from there), with aliases;"
        " unset: the *.cloudfront.net certificate"))
    aliases: tuple[str, ...] = field(default=(), metadata=allowed(
        "lowercase DNS names such as 'assets.example.com' covered by certificate_arn (needs certificate_arn)"))

    def check(self, problems: Problems, stage: StageSection) -> None:
        if stage.production and not self.cloudfront_enabled:
            problems.add("static_assets.cloudfront_enabled", self.cloudfront_enabled,
                         "a production stage serves its assets through CloudFront", "true in a production stage")
        if self.transition_to_ia_days < S3_IA_MINIMUM_DAYS:
            problems.add("static_assets.transition_to_ia_days", self.transition_to_ia_days,
                         "S3 refuses a Standard-IA transition before 30 days", "30 to 3650")
        elif self.transition_to_ia_days > 3650:
            problems.add("static_assets.transition_to_ia_days", self.transition_to_ia_days, "out of range",
                         "30 to 3650")
        earliest_archive = self.transition_to_ia_days + S3_IA_MINIMUM_STAY_DAYS
        if self.transition_to_archive_days < earliest_archive:
            problems.add("static_assets.transition_to_archive_days", self.transition_to_archive_days,
                         f"out of order: objects reach Standard-IA on day {self.transition_to_ia_days} and must"
                         " stay there 30 days before the archive class",
                         f"{earliest_archive} to 3650 (transition_to_ia_days + 30 or more)")
        elif self.transition_to_archive_days > 3650:
            problems.add("static_assets.transition_to_archive_days", self.transition_to_archive_days,
                         "out of range", f"{earliest_archive} to 3650")
        check_range(problems, "static_assets.noncurrent_version_expiration_days",
                    self.noncurrent_version_expiration_days, 1, 3650)
        check_range(problems, "static_assets.abort_incomplete_multipart_days", self.abort_incomplete_multipart_days,
                    1, 365)
        check_range(problems, "static_assets.access_log_expiration_days", self.access_log_expiration_days, 1, 3650)
        if not PREFIX.match(self.upload_prefix):
            problems.add("static_assets.upload_prefix", self.upload_prefix, "not a key prefix",
                         "lowercase letters, digits, '.', '_', '-', ending in '/', e.g. 'uploads/'")
        if not ROOT_OBJECT.match(self.default_root_object) or self.default_root_object.endswith("/"):
            problems.add("static_assets.default_root_object", self.default_root_object, "not an object key",
                         "an object key such as 'index.html'")
        if self.certificate_arn is not None and not CLOUDFRONT_ACM_ARN.match(self.certificate_arn):
            problems.add("static_assets.certificate_arn", self.certificate_arn,
                         "not an ACM certificate ARN in us-east-1",
                         "'arn:aws:acm:us-east-1:<account>:certificate/<uuid>' (CloudFront needs us-east-1)")
        for index, alias in enumerate(self.aliases):
            if not DOMAIN_NAME.match(alias):
                problems.add(f"static_assets.aliases[{index}]", alias, "not a DNS name",
                             "a lowercase DNS name such as 'assets.example.com'")
        if bool(self.aliases) != (self.certificate_arn is not None):
            problems.add("static_assets.aliases", list(self.aliases),
                         "aliases and certificate_arn go together (CloudFront serves an alias only with its"
                         " certificate)", "both set, or neither")


@dataclass(frozen=True)
class MonitoringSection:
    """[monitoring]: who is told and when each alarm fires (each tier sets its own log retention)."""

    alarm_emails: tuple[str, ...] = field(default=(), metadata=allowed(
        "e-mail addresses such as 'oncall@example.com' subscribed to the stage's alarm topic"
        " (at least one in production)"))
    period_seconds: Literal[60, 300] = field(default=300, metadata=allowed(
        "60 or 300: the period each alarm evaluates"))
    evaluation_periods: int = field(default=3, metadata=allowed(
        "1 to 24 consecutive breaching periods before an alarm fires"))
    alb_5xx_count: int = field(default=10, metadata=allowed(
        "ALB (or target) 5xx responses per period that alarm, 1 to 1000000"))
    alb_4xx_count: int = field(default=500, metadata=allowed(
        "ALB + target 4xx responses per period that alarm as a surge (scans, credential stuffing), 1 to 10000000"))
    target_response_time_statistic: Literal["p95", "p99"] = field(default="p99", metadata=allowed(
        "'p95' or 'p99': the percentile of target response time alarmed on"))
    target_response_time_seconds: float = field(default=1.5, metadata=allowed(
        "target response time at that percentile that alarms, 0.05 to 60 seconds"))
    unhealthy_hosts: int = field(default=1, metadata=allowed(
        "unhealthy targets that alarm, 1 to 100"))
    waf_blocked_requests: int = field(default=1000, metadata=allowed(
        "WAF-blocked requests per period that alarm as a spike, 1 to 10000000"))
    app_cpu_percent: float = field(default=80.0, metadata=allowed("average app-server CPU % that alarms, 1 to 100"))
    db_cpu_percent: float = field(default=80.0, metadata=allowed("database CPU % that alarms, 1 to 100"))
    db_free_storage_gib: float = field(default=5.0, metadata=allowed(
        "free database storage (GiB) below which it alarms, 0.5 to 10000"))
    db_connections: int = field(default=200, metadata=allowed(
        "database connections that alarm, 1 to 100000"))
    db_freeable_memory_mib: int = field(default=256, metadata=allowed(
        "freeable database memory (MiB) below which it alarms, 16 to 1000000"))
    db_replica_lag_seconds: int = field(default=60, metadata=allowed(
        "read-replica lag (seconds) that alarms, 1 to 86400"))
    cache_engine_cpu_percent: float = field(default=75.0, metadata=allowed(
        "Redis engine-thread CPU % that alarms, 1 to 100"))
    cache_memory_percent: float = field(default=80.0, metadata=allowed(
        "Redis memory used (% of maxmemory) that alarms, 1 to 100"))
    cache_evictions: int = field(default=100, metadata=allowed(
        "keys evicted per period that alarm, 1 to 100000000"))
    cache_replication_lag_seconds: float = field(default=30.0, metadata=allowed(
        "Redis replica lag (seconds) that alarms, 0.1 to 3600"))
    nat_port_allocation_errors: int = field(default=0, metadata=allowed(
        "NAT port-allocation errors per period above which it alarms, 0 (any error) to 100000"))

    def check(self, problems: Problems, stage: StageSection) -> None:
        for index, address in enumerate(self.alarm_emails):
            if not EMAIL.match(address):
                problems.add(f"monitoring.alarm_emails[{index}]", address, "not an e-mail address",
                             "an address such as 'oncall@example.com'")
        if len(set(a.lower() for a in self.alarm_emails)) != len(self.alarm_emails):
            problems.add("monitoring.alarm_emails", list(self.alarm_emails), "an address is listed twice",
                         "distinct addresses")
        if stage.production and not self.alarm_emails:
            problems.add("monitoring.alarm_emails", [], "nobody would hear a production alarm",
                         "at least one e-mail address in a production stage")
        ranges = {
            "evaluation_periods": (1, 24), "alb_5xx_count": (1, 1_000_000), "alb_4xx_count": (1, 10_000_000),
            "target_response_time_seconds": (0.05, 60), "unhealthy_hosts": (1, 100),
            "waf_blocked_requests": (1, 10_000_000), "app_cpu_percent": (1, 100), "db_cpu_percent": (1, 100),
            "db_free_storage_gib": (0.5, 10_000), "db_connections": (1, 100_000),
            "db_freeable_memory_mib": (16, 1_000_000), "db_replica_lag_seconds": (1, 86_400),
            "cache_engine_cpu_percent": (1, 100), "cache_memory_percent": (1, 100),
            "cache_evictions": (1, 100_000_000), "cache_replication_lag_seconds": (0.1, 3600),
            "nat_port_allocation_errors": (0, 100_000),
        }
        for name, (low, high) in ranges.items():
            check_range(problems, f"monitoring.{name}", getattr(self, name), low, high)
