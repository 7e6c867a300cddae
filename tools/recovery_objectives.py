"""Recovery objectives (RPO, RTO) per stage and failure, derived from the stage files.

    python -m tools.recovery_objectives            # print the README table
    python -m tools.recovery_objectives --write    # rewrite it in README.md (between its markers)

Every figure comes from a setting (backup frequency and retention, point-in-time window, Multi-AZ,
the DR region and what is copied there, the vault lock) or from an AWS figure named below; the one
assumption is the time a database restore takes, :data:`DATABASE_RESTORE_MINUTES`, until the weekly
restore tests (AWS Backup restore testing, which records every restore job's duration) measure it.
``tests/tools/test_recovery_objectives.py`` fails while README.md differs from what this derives.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from environments import StageConfig, load_stages

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- recovery-objectives:start -->", "<!-- recovery-objectives:end -->"

#: RDS uploads the transaction logs every 5 minutes: LatestRestorableTime is "typically within the last
#: five minutes" (RDS User Guide, "Restoring a DB instance to a specified time").
TRANSACTION_LOG_MINUTES = 5
#: "Failover times are typically 60–120 seconds" (RDS User Guide, "Failing over a Multi-AZ DB instance").
MULTI_AZ_FAILOVER = "1-2 min"
#: S3 Replication Time Control replicates "99.99% of these objects within 15 minutes" (S3 User Guide,
#: "Meeting compliance requirements with S3 Replication Time Control").
REPLICATION_MINUTES = 15
#: Assumed until the restore tests measure it: point-in-time restore of the instance, the tool's checks,
#: the switch and an instance refresh of the app servers.
DATABASE_RESTORE_MINUTES = 60


@dataclass(frozen=True)
class Objective:
    failure: str
    runbook: str  #: anchor in docs/runbooks.md
    rpo: str
    rto: str


def objectives(config: StageConfig) -> list[Objective]:
    db, backup, assets = config.database, config.backup, config.static_assets
    dr = config.stage.dr_region
    restore = f"~{DATABASE_RESTORE_MINUTES} min (`make restore`)"
    pitr = f"{TRANSACTION_LOG_MINUTES} min" if db.backup_retention_days else "last daily snapshot (24 h)"
    rows = [
        Objective(
            "AZ loss",
            "az-loss",
            "0 (synchronous standby)" if db.multi_az else f"{pitr} (single-AZ: point-in-time restore)",
            f"{MULTI_AZ_FAILOVER} (Multi-AZ failover)" if db.multi_az else restore,
        ),
        Objective("Bad deploy", "bad-deploy", "0 (no data on app servers)", "one instance refresh (previous artifact)"),
        Objective(
            "Data corruption",
            "data-corruption",
            f"to the second, within {db.backup_retention_days} d; then 24 h (daily snapshots,"
            f" {backup.daily_retention_days} d)",
            restore,
        ),
        Objective(
            "Deleted bucket objects",
            "deleted-bucket-objects",
            f"0 within {assets.noncurrent_version_expiration_days} d (versions)"
            + (
                f"; to the second within {backup.assets_point_in_time_days} d (AWS Backup)"
                if backup.continuous_backup
                else ""
            ),
            "minutes (`make restore-assets`)",
        ),
    ]
    if dr is None:
        rows.append(Objective("Regional outage", "regional-outage", "no copy outside the region", "not recoverable"))
    else:
        database = (
            f"~{TRANSACTION_LOG_MINUTES}+ min (replicated transaction logs)"
            if backup.replicate_database_backups
            else "24 h (daily copies)"
        )
        media = f"{REPLICATION_MINUTES} min (replication)"
        reads = "media reads: 0 (CDN fails over); " if assets.cloudfront_enabled else ""
        rows.append(
            Objective(
                "Regional outage",
                "regional-outage",
                f"database {database}; media {media}",
                f"{reads}site: hours (rebuilt in {dr} from code)",
            )
        )
    lock = {
        "compliance": ("24 h (daily copies in both regions' locked vaults)", "hours to days (a clean account)"),
        "governance": ("none guaranteed: an administrator can lift the lock", "-"),
        "none": ("none: backups can be deleted with the account", "-"),
    }[backup.vault_lock]
    rows.append(Objective("Compromised account", "compromised-account", *lock))
    return rows


def markdown(configs: list[StageConfig]) -> str:
    """The README table: one row per failure, RPO and RTO per stage (non-production stages first)."""
    ordered = sorted(configs, key=lambda c: (c.production, c.name))
    table = {c.name: objectives(c) for c in ordered}
    names = list(table)
    lines = ["| failure | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for index, first in enumerate(table[names[0]]):
        cells = [f"RPO {table[n][index].rpo}<br>RTO {table[n][index].rto}" for n in names]
        lines.append(f"| [{first.failure}](docs/runbooks.md#{first.runbook}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SECTION = re.compile(re.escape(START) + r"\n(.*?)" + re.escape(END), re.S)


def readme_section(text: str) -> str:
    """The table in README.md, between its markers."""
    match = SECTION.search(text)
    if match is None:
        raise ValueError(f"README.md has no {START} ... {END} section")
    return match.group(1).rstrip("\n")


def with_table(text: str, table: str) -> str:
    if SECTION.search(text) is None:
        raise ValueError(f"README.md has no {START} ... {END} section")
    return SECTION.sub(lambda _: f"{START}\n{table}\n{END}", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="RPO and RTO per stage, from the stage files")
    parser.add_argument("--write", action="store_true", help="rewrite the table in README.md")
    args = parser.parse_args(argv)
    table = markdown(load_stages())
    if args.write:
        README.write_text(with_table(README.read_text(), table))
        print(f"wrote the recovery objectives into {README}")
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
