"""The capacity model: the database connections a stage's fleet may open, against what its database
class accepts.

Each instance of the app fleet opens a pool of ``[app_servers] db_pool_size`` connections to the
primary (the app receives the size at boot). At most :func:`modules.app_servers.peak_instances` run at
once: ``max_size`` plus what the instance maintenance policy launches above it while replacing. Their
connections must stay under :data:`BUDGET` of the database's ``max_connections``, leaving the rest for
operators, RDS's own connections and a replacement's overlap. The default ``max_connections`` is a
formula of the class's memory ("Quotas and constraints for Amazon RDS", section "Maximum number of
database connections", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections):

- MySQL and MariaDB: ``{DBInstanceClassMemory/12582880}``;
- PostgreSQL: ``LEAST({DBInstanceClassMemory/9531392}, 5000)``.

DBInstanceClassMemory is the class's memory less what RDS reserves for the operating system and its own
processes, so the real figure is somewhat lower than computed from :data:`CLASS_MEMORY_GIB`; the budget's
20 % margin is there for that too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modules.app_servers import peak_instances
from modules.settings import Problems

if TYPE_CHECKING:
    from environments import StageConfig

#: The share of max_connections the fleet's pools may take at their peak.
BUDGET = 0.8
GIB = 1024**3
#: Memory (GiB) of the RDS instance classes the capacity model knows ("DB instance classes", Amazon RDS
#: User Guide, hardware specifications: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/
#: Concepts.DBInstanceClass.Summary.html). A stage on another class is refused until it is added here.
CLASS_MEMORY_GIB: dict[str, int] = {
    "db.t3.micro": 1,
    "db.t3.small": 2,
    "db.t3.medium": 4,
    "db.t3.large": 8,
    "db.t4g.micro": 1,
    "db.t4g.small": 2,
    "db.t4g.medium": 4,
    "db.t4g.large": 8,
    "db.m6g.large": 8,
    "db.m6g.xlarge": 16,
    "db.m7g.large": 8,
    "db.m7g.xlarge": 16,
    "db.r6g.large": 16,
    "db.r6g.xlarge": 32,
    "db.r7g.large": 16,
    "db.r7g.xlarge": 32,
    "db.r7g.2xlarge": 64,
}


def max_connections(engine: str, instance_class: str) -> int:
    """RDS's default max_connections for the class (computed from its full memory; see the module docstring)."""
    memory = CLASS_MEMORY_GIB[instance_class] * GIB
    if engine == "postgres":
        return min(memory // 9531392, 5000)
    return memory // 12582880


@dataclass(frozen=True)
class Capacity:
    """One stage's sizing: the request rate its fleet is sized for and its database connection budget."""

    stage: str
    max_size: int
    requests_per_target: int
    peak_instances: int
    pool_size: int
    instance_class: str
    engine: str

    @property
    def sized_for_requests_per_minute(self) -> int:
        """Target tracking holds requests_per_target per instance: at max_size, this many a minute."""
        return self.requests_per_target * self.max_size

    @property
    def peak_connections(self) -> int:
        return self.pool_size * self.peak_instances

    @property
    def max_connections(self) -> int:
        return max_connections(self.engine, self.instance_class)

    @property
    def budget(self) -> int:
        return int(self.max_connections * BUDGET)

    @property
    def largest_pool(self) -> int:
        return self.budget // self.peak_instances


def capacity_of(config: StageConfig) -> Capacity:
    app = config.app_servers
    return Capacity(
        stage=config.name,
        max_size=app.max_size,
        requests_per_target=app.requests_per_target,
        peak_instances=peak_instances(app.max_size),
        pool_size=app.db_pool_size,
        instance_class=config.database.instance_class,
        engine=config.database.engine,
    )


def check_capacity(config: StageConfig, problems: Problems) -> None:
    """Refuse a stage whose fleet's pools at their peak would take more than :data:`BUDGET` of max_connections."""
    if config.database.instance_class not in CLASS_MEMORY_GIB:
        problems.add(
            "database.instance_class",
            config.database.instance_class,
            "the capacity model does not know this class's memory (environments/capacity.py CLASS_MEMORY_GIB)",
            "one of " + ", ".join(CLASS_MEMORY_GIB) + ", or add the class's memory to the table",
        )
        return
    capacity = capacity_of(config)
    if capacity.peak_connections > capacity.budget:
        problems.add(
            "app_servers.db_pool_size",
            capacity.pool_size,
            f"{capacity.pool_size} connections x {capacity.peak_instances} instances at most (max_size"
            f" {capacity.max_size} and one replacement batch) = {capacity.peak_connections}, over"
            f" {int(BUDGET * 100)} % of {capacity.instance_class}'s max_connections for {capacity.engine}"
            f" ({capacity.max_connections}): {capacity.budget}",
            f"at most {capacity.largest_pool} per instance, fewer instances, or a larger database class",
        )
