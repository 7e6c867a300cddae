"""Stage-file sections of the data tier: ``[database]`` (RDS) and ``[cache]`` (ElastiCache Redis).

Data and value rules only: engine and version family, vertical sizing (instance class,
storage), horizontal read scaling (replicas, cache nodes), backups, and what production must
have (Multi-AZ, replicas, retention, deletion protection, cache failover).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from environments.schema import LOG_RETENTION_DAYS, Problems, StageSection, allowed, check_range, check_retention

#: Engine -> the major-version families this project ships parameter groups for.
ENGINE_VERSIONS = {"mysql": ("8.0",), "postgres": ("16",)}
DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
CACHE_NODE_TYPE = re.compile(r"^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
# ddd:hh24:mi-ddd:hh24:mi and hh24:mi-hh24:mi, as RDS and ElastiCache accept them.
MAINTENANCE_WINDOW = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-"
                                r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$")
DAILY_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
IDENTIFIER = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,15}$")
RETENTIONS = ", ".join(map(str, LOG_RETENTION_DAYS))
MAX_REPLICAS = 5
#: RDS for MySQL offers no Performance Insights on these classes (production needs it).
NO_PERFORMANCE_INSIGHTS = re.compile(r"^db\.t(2|3|4g)\.(micro|small)$")


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = 7 * 24 * 60


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _weekly_interval(weekly: str) -> tuple[int, int]:
    """A weekly window as (start, length) in minutes of the week (it may wrap past Sunday)."""
    start, end = ((DAYS.index(part[:3]) * 24 * 60 + _minutes(part[4:])) for part in weekly.split("-"))
    return start, (end - start) % WEEK


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two (start, length) intervals on the weekly circle share a minute."""
    return (b[0] - a[0]) % WEEK < a[1] or (a[0] - b[0]) % WEEK < b[1]


def _check_windows(problems: Problems, section: str, daily_field: str, daily: str, weekly: str,
                   min_minutes: int, service: str) -> None:
    """Both windows well formed, each at least ``min_minutes`` long, and never overlapping (AWS rejects it)."""
    daily_ok, weekly_ok = bool(DAILY_WINDOW.match(daily)), bool(MAINTENANCE_WINDOW.match(weekly))
    if not daily_ok:
        problems.add(f"{section}.{daily_field}", daily, "not a daily window",
                     "'hh:mm-hh:mm' in UTC, e.g. '02:00-03:00'")
    if not weekly_ok:
        problems.add(f"{section}.maintenance_window", weekly, "not a weekly window",
                     "'ddd:hh:mm-ddd:hh:mm' in UTC, e.g. 'sun:03:30-sun:04:30'")
    if daily_ok:
        start, end = (_minutes(t) for t in daily.split("-"))
        length = (end - start) % (24 * 60)
        if length < min_minutes:
            problems.add(f"{section}.{daily_field}", daily, f"shorter than {service}'s minimum",
                         f"a window of at least {min_minutes} minutes")
    if weekly_ok and _weekly_interval(weekly)[1] < min_minutes:
        problems.add(f"{section}.maintenance_window", weekly, f"shorter than {service}'s minimum",
                     f"a window of at least {min_minutes} minutes")
    if daily_ok and weekly_ok:
        maintenance = _weekly_interval(weekly)
        if any(_overlap(((day * 24 * 60 + start) % WEEK, length), maintenance) for day in range(7)):
            problems.add(f"{section}.maintenance_window", weekly, f"overlaps {daily_field} ({daily})",
                         f"a weekly window outside the daily {daily_field}")


@dataclass(frozen=True)
class DatabaseSection:
    """[database]: the RDS primary, its read replicas, backups and sizing."""

    engine: Literal["mysql", "postgres"] = field(default="mysql", metadata=allowed(
        "'mysql' (MySQL 8.0, what the booking application uses) or 'postgres' (PostgreSQL 16)"))
    engine_version: str = field(default="8.0", metadata=allowed(
        "the engine's major version family: '8.0' (or '8.0.x') for mysql, '16' (or '16.x') for postgres"))
    instance_class: str = field(default="db.t4g.medium", metadata=allowed(
        "an RDS instance class 'db.<family>.<size>', e.g. 'db.r7g.large' (vertical sizing; mysql on"
        " db.t2/t3/t4g micro or small runs without Performance Insights, not allowed in production)"))
    allocated_storage_gb: int = field(default=20, metadata=allowed("20 to 65536 GiB of gp3 storage"))
    max_allocated_storage_gb: int = field(default=100, metadata=allowed(
        "the storage-autoscaling ceiling in GiB, >= allocated_storage_gb and <= 65536"))
    multi_az: bool = field(default=False, metadata=allowed("true or false (must be true in a production stage)"))
    read_replicas: int = field(default=0, metadata=allowed(
        f"0 to {MAX_REPLICAS} read replicas (horizontal read scaling; at least 1 in a production stage)"))
    port: int | None = field(default=None, metadata=allowed(
        "a TCP port 1150-65535 (unset: the engine's default, 3306 for mysql, 5432 for postgres)"))
    database_name: str = field(default="booking", metadata=allowed(
        "the initial database name: a letter then up to 15 letters, digits or '_'"))
    master_username: str = field(default="booking_admin", metadata=allowed(
        "a custom master user name (not 'admin', 'root' or 'postgres'): a letter then up to 15 letters, digits, '_'"))
    backup_retention_days: int = field(default=7, metadata=allowed(
        "0 to 35 days of automated backups (at least 7 in a production stage; read replicas need >= 1)"))
    backup_window: str = field(default="02:00-03:00", metadata=allowed(
        "'hh:mm-hh:mm' in UTC, at least 30 minutes, outside maintenance_window"))
    maintenance_window: str = field(default="sun:03:30-sun:04:30", metadata=allowed(
        "'ddd:hh:mm-ddd:hh:mm' in UTC, at least 30 minutes, outside backup_window"))
    deletion_protection: bool = field(default=True, metadata=allowed(
        "true or false (must be true in a production stage)"))
    performance_insights_retention_days: int = field(default=7, metadata=allowed(
        "7 (free tier) or a multiple of 31 up to 731"))
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = field(default=60, metadata=allowed(
        "enhanced monitoring interval: 1, 5, 10, 15, 30 or 60 seconds (0 turns it off, not allowed in production)"))
    log_retention_days: int = field(default=90, metadata=allowed("a CloudWatch retention: " + RETENTIONS))

    @property
    def effective_port(self) -> int:
        return self.port or (3306 if self.engine == "mysql" else 5432)

    def check(self, problems: Problems, stage: StageSection) -> None:
        families = ENGINE_VERSIONS[self.engine]
        if not any(self.engine_version == f or self.engine_version.startswith(f + ".") for f in families):
            problems.add("database.engine_version", self.engine_version,
                         f"not a supported {self.engine} version family",
                         " or ".join(f"'{f}' (or '{f}.x')" for f in families) + f" for engine '{self.engine}'")
        if not DB_INSTANCE_CLASS.match(self.instance_class):
            problems.add("database.instance_class", self.instance_class, "not an RDS instance class",
                         "'db.<family>.<size>', e.g. 'db.r7g.large'")
        check_range(problems, "database.allocated_storage_gb", self.allocated_storage_gb, 20, 65536)
        if not self.allocated_storage_gb <= self.max_allocated_storage_gb <= 65536:
            problems.add("database.max_allocated_storage_gb", self.max_allocated_storage_gb,
                         f"below allocated_storage_gb ({self.allocated_storage_gb}) or above 65536",
                         f"{self.allocated_storage_gb} to 65536")
        if not 0 <= self.read_replicas <= MAX_REPLICAS:
            problems.add("database.read_replicas", self.read_replicas, "out of range", f"0 to {MAX_REPLICAS}")
        if self.port is not None and not 1150 <= self.port <= 65535:
            problems.add("database.port", self.port, "out of range", "1150 to 65535 (RDS's allowed ports)")
        if not IDENTIFIER.match(self.database_name):
            problems.add("database.database_name", self.database_name, "not a database name",
                         "a letter then up to 15 letters, digits or '_'")
        if not IDENTIFIER.match(self.master_username) or self.master_username.lower() in ("admin", "root", "postgres"):
            problems.add("database.master_username", self.master_username, "default or malformed user name",
                         "a custom name (not admin/root/postgres): a letter then up to 15 letters, digits or '_'")
        check_range(problems, "database.backup_retention_days", self.backup_retention_days, 0, 35)
        if self.read_replicas and self.backup_retention_days < 1:
            problems.add("database.backup_retention_days", self.backup_retention_days,
                         "read replicas need automated backups on the primary", "1 to 35 when read_replicas > 0")
        _check_windows(problems, "database", "backup_window", self.backup_window, self.maintenance_window, 30, "RDS")
        pi = self.performance_insights_retention_days
        if not (pi == 7 or (pi % 31 == 0 and 31 <= pi <= 731)):
            problems.add("database.performance_insights_retention_days", pi, "not a retention RDS accepts",
                         "7, or a multiple of 31 from 31 to 731")
        check_retention(problems, "database.log_retention_days", self.log_retention_days)
        if stage.production:
            for name, ok, wanted in (
                    ("multi_az", self.multi_az, "true in a production stage"),
                    ("read_replicas", self.read_replicas >= 1, "1 to 5 in a production stage"),
                    ("backup_retention_days", self.backup_retention_days >= 7, "7 to 35 in a production stage"),
                    ("deletion_protection", self.deletion_protection, "true in a production stage"),
                    ("monitoring_interval_seconds", self.monitoring_interval_seconds > 0,
                     "1, 5, 10, 15, 30 or 60 in a production stage"),
                    ("instance_class",
                     not (self.engine == "mysql" and NO_PERFORMANCE_INSIGHTS.match(self.instance_class)),
                     "a class with Performance Insights in a production stage (for mysql not db.t2/t3/t4g"
                     " micro or small), e.g. 'db.r7g.large'")):
                if not ok:
                    problems.add(f"database.{name}", getattr(self, name), "not allowed in production", wanted)


@dataclass(frozen=True)
class CacheSection:
    """[cache]: the Redis replication group in front of the database."""

    node_type: str = field(default="cache.t4g.small", metadata=allowed(
        "an ElastiCache node type 'cache.<family>.<size>', e.g. 'cache.r7g.large'"))
    node_count: int = field(default=2, metadata=allowed(
        "1 to 6 nodes: a primary and node_count-1 replicas (at least 2 with automatic failover)"))
    automatic_failover: bool = field(default=True, metadata=allowed(
        "true or false: promote a replica in another AZ when the primary fails (true in production)"))
    engine_version: str = field(default="7.1", metadata=allowed("a Redis 7 version: '7.0' or '7.1'"))
    maxmemory_policy: Literal["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "volatile-ttl"] = field(
        default="allkeys-lru", metadata=allowed(
            "'allkeys-lru' (read-through cache: evict the least recently used key), 'allkeys-lfu', 'volatile-lru',"
            " 'volatile-lfu' or 'volatile-ttl'"))
    snapshot_retention_days: int = field(default=1, metadata=allowed("0 to 35 days of daily snapshots"))
    snapshot_window: str = field(default="01:00-02:00", metadata=allowed(
        "'hh:mm-hh:mm' in UTC, at least 60 minutes, outside maintenance_window"))
    maintenance_window: str = field(default="sun:04:30-sun:05:30", metadata=allowed(
        "'ddd:hh:mm-ddd:hh:mm' in UTC, at least 60 minutes, outside snapshot_window"))
    log_retention_days: int = field(default=30, metadata=allowed("a CloudWatch retention: " + RETENTIONS))

    def check(self, problems: Problems, stage: StageSection) -> None:
        if not CACHE_NODE_TYPE.match(self.node_type):
            problems.add("cache.node_type", self.node_type, "not an ElastiCache node type",
                         "'cache.<family>.<size>', e.g. 'cache.r7g.large'")
        check_range(problems, "cache.node_count", self.node_count, 1, 6)
        if self.automatic_failover and self.node_count < 2:
            problems.add("cache.node_count", self.node_count, "automatic failover needs a replica to promote",
                         "2 to 6 when automatic_failover is true")
        if self.engine_version not in ("7.0", "7.1"):
            problems.add("cache.engine_version", self.engine_version, "not a supported Redis version", "'7.0' or '7.1'")
        check_range(problems, "cache.snapshot_retention_days", self.snapshot_retention_days, 0, 35)
        _check_windows(problems, "cache", "snapshot_window", self.snapshot_window, self.maintenance_window, 60,
                       "ElastiCache")
        check_retention(problems, "cache.log_retention_days", self.log_retention_days)
        if stage.production and not self.automatic_failover:
            problems.add("cache.automatic_failover", self.automatic_failover, "not allowed in production",
                         "true in a production stage")
        if stage.production and self.snapshot_retention_days < 1:
            problems.add("cache.snapshot_retention_days", self.snapshot_retention_days, "not allowed in production",
                         "1 to 35 in a production stage")
