"""Stage parameters: one TOML file per stage in this folder, validated once when loaded.

``load_stage("dev")`` reads ``environments/dev.toml``; ``load_stages()`` reads every
``*.toml`` here whose name does not start with ``_`` (``_state.toml`` holds the settings of
the Terraform state bootstrap, shared by all stages; ``_accounts.toml`` the AWS accounts, see
:mod:`environments.accounts`). Adding a stage is adding a file.

Each section of a stage file is built straight into its tier's settings class
(:data:`SECTIONS`); the tier checks its service's limits, :mod:`environments.production` adds
the production rules. Every problem in a file is reported at once, as one
:class:`StageConfigError` naming the file, the field, the value and what is allowed, before any
Terraform is written.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from environments.accounts import AccountConfig, accounts_path, check_stage_account, parse_accounts
from environments.capacity import check_capacity
from environments.production import check_production
from environments.schema import StageConfigError, StageSection, StateSection, build_section, raise_if_any
from modules.app_servers import DRAIN_CONNECTIONS_SECONDS, AppServerSettings
from modules.backup import BackupSettings
from modules.cache import CacheSettings
from modules.database import DatabaseSettings
from modules.load_balancer import LoadBalancerSettings
from modules.monitoring import MonitoringSettings
from modules.network import NetworkSettings
from modules.settings import Problems
from modules.state_store import StateStoreSettings
from modules.static_assets import StaticAssetsSettings

ENVIRONMENTS_DIR = Path(__file__).resolve().parent
STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,15}$")

#: Section name in the TOML file -> the settings class it is built into. A tier adds its section here.
SECTIONS: dict[str, type] = {
    "stage": StageSection,
    "state": StateSection,
    "network": NetworkSettings,
    "load_balancer": LoadBalancerSettings,
    "app_servers": AppServerSettings,
    "database": DatabaseSettings,
    "cache": CacheSettings,
    "static_assets": StaticAssetsSettings,
    "monitoring": MonitoringSettings,
    "backup": BackupSettings,
}


@dataclass(frozen=True)
class StageConfig:
    """One validated stage: its name, the file it came from, and one attribute per section."""

    name: str
    source: str
    stage: StageSection
    state: StateSection
    network: NetworkSettings
    load_balancer: LoadBalancerSettings
    app_servers: AppServerSettings
    database: DatabaseSettings
    cache: CacheSettings
    static_assets: StaticAssetsSettings
    monitoring: MonitoringSettings
    backup: BackupSettings
    #: The account ``[stage] account`` names (None: the stage names none, allowed outside production).
    account: AccountConfig | None = None

    @property
    def production(self) -> bool:
        return self.stage.production


def _read_toml(path: Path, what: str = "stage file") -> dict[str, Any]:
    where = _display(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StageConfigError(f"{where}: no such {what}") from None
    except IsADirectoryError:
        raise StageConfigError(f"{where}: a directory, not a {what}") from None
    except UnicodeDecodeError as error:
        raise StageConfigError(
            f"{where}: not UTF-8 text ({error.reason} at byte {error.start}); allowed: a UTF-8 TOML file"
        ) from None
    except OSError as error:
        raise StageConfigError(f"{where}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise StageConfigError(f"{where}: not valid TOML: {error}") from None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ENVIRONMENTS_DIR.parent))
    except ValueError:
        return str(path)


def parse_stage(
    name: str, raw: dict[str, Any], source: str, accounts: dict[str, AccountConfig] | None = None
) -> StageConfig:
    """Validate one stage's parsed TOML against the accounts (default: the shipped accounts file).
    Raises StageConfigError listing every problem."""
    if accounts is None:
        accounts = load_accounts()
    problems = Problems(source)
    if not STAGE_NAME.match(name):
        problems.add(
            "(file name)", name, "not a stage name", "2-16 lowercase letters, digits and '-', starting with a letter"
        )
    for key in raw:
        if key not in SECTIONS:
            problems.add(key, raw[key], "unknown section (a typo?)", "one of " + ", ".join(f"[{s}]" for s in SECTIONS))
    sections = {key: build_section(cls, raw.get(key), key, problems) for key, cls in SECTIONS.items()}
    if any(section is None for section in sections.values()):
        raise_if_any(problems)  # the value checks below need every section complete
    region = sections["stage"].region
    for key, section in sections.items():
        section.check(problems.within(key), region)
    stage = sections["stage"]
    account = check_stage_account(stage.account, stage.production, region, accounts, problems, stage.dr_region)
    config = StageConfig(name=name, source=source, account=account, **sections)
    check_across_sections(config, problems)
    check_production(config, problems)
    check_capacity(config, problems)
    raise_if_any(problems)
    return config


def check_across_sections(config: StageConfig, problems: Problems) -> None:
    """What AWS refuses about two sections together (each section's own limits are its tier's)."""
    backup = config.backup
    if backup.replicate_database_backups and config.stage.dr_region is None:
        problems.add(
            "backup.replicate_database_backups",
            True,
            "there is no disaster-recovery region to replicate to",
            "false, or set [stage] dr_region",
        )
    delay = config.load_balancer.deregistration_delay_seconds
    if delay > DRAIN_CONNECTIONS_SECONDS:
        # A leaving app server waits this long at most for the ALB's connections to close, within its
        # terminating hook's timeout; a longer delay would stop the app under in-flight requests.
        problems.add(
            "load_balancer.deregistration_delay_seconds",
            delay,
            "longer than a leaving app server waits for the load balancer's connections "
            f"({DRAIN_CONNECTIONS_SECONDS} s)",
            f"0 to {DRAIN_CONNECTIONS_SECONDS} seconds",
        )
    low, high = backup.vault_lock_min_retention_days, backup.vault_lock_max_retention_days
    days = config.database.backup_retention_days
    if backup.locked and backup.continuous_backup and not low <= days <= high:
        # The database's continuous backup keeps its recovery point this long; the lock fails such jobs.
        problems.add(
            "database.backup_retention_days",
            days,
            f"outside the backup vault lock's retention range ({low} to {high} days): every continuous backup"
            " job of the database would fail",
            f"{low} to {min(high, 35)}",
        )


def load_accounts(directory: Path = ENVIRONMENTS_DIR) -> dict[str, AccountConfig]:
    """``_accounts.toml`` of ``directory``, validated: account name -> account."""
    path = accounts_path(directory)
    problems = Problems(_display(path))
    accounts = parse_accounts(_read_toml(path, "accounts file"), problems)
    if problems:
        raise StageConfigError(problems.summary(f"accounts file {problems.source}"))
    return accounts


def load_stage(
    name: str, directory: Path = ENVIRONMENTS_DIR, accounts: dict[str, AccountConfig] | None = None
) -> StageConfig:
    path = directory / f"{name}.toml"
    return parse_stage(
        name, _read_toml(path), _display(path), accounts if accounts is not None else load_accounts(directory)
    )


def stage_names(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml") if not p.name.startswith("_"))


def load_stages(directory: Path = ENVIRONMENTS_DIR, only: list[str] | None = None) -> list[StageConfig]:
    """Every stage file (or only the named ones), validated, in name order."""
    names = stage_names(directory)
    for wanted in only or []:
        if wanted not in names:
            raise StageConfigError(
                f"unknown stage {wanted!r}: allowed: {', '.join(names)} (files in {_display(directory)})"
            )
    accounts = load_accounts(directory)
    return [load_stage(name, directory, accounts) for name in names if not only or name in only]


def load_state_backend(directory: Path = ENVIRONMENTS_DIR) -> StateStoreSettings:
    path = directory / "_state.toml"
    problems = Problems(_display(path))
    settings: StateStoreSettings | None = build_section(StateStoreSettings, _read_toml(path), "state_backend", problems)
    raise_if_any(problems)
    assert settings is not None  # complete: raise_if_any reported every missing value
    settings.check(problems.within(""), settings.region)  # its keys are top-level
    raise_if_any(problems)
    return settings


__all__ = [
    "ENVIRONMENTS_DIR",
    "SECTIONS",
    "AccountConfig",
    "StageConfig",
    "StageConfigError",
    "load_accounts",
    "load_stage",
    "load_stages",
    "load_state_backend",
    "parse_stage",
    "stage_names",
]
