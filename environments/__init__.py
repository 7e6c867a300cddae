"""Stage parameters: one TOML file per stage in this folder, validated once when loaded.

``load_stage("dev")`` reads ``environments/dev.toml``; ``load_stages()`` reads every
``*.toml`` here whose name does not start with ``_`` (``_state.toml`` holds the settings of
the Terraform state bootstrap, shared by all stages). Adding a stage is adding a file.

Every problem in a file is reported at once, as one :class:`StageConfigError` naming the file,
the field, the value and what is allowed, before any Terraform is written.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from environments.schema import (
    NetworkSection,
    Problems,
    StageConfigError,
    StageSection,
    StateSection,
    allowed,
    build_section,
)
from environments.app_tier import AppServersSection, LoadBalancerSection
from environments.data_tier import CacheSection, DatabaseSection
from environments.observability import MonitoringSection, StaticAssetsSection

ENVIRONMENTS_DIR = Path(__file__).resolve().parent
STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,15}$")

# Section name in the TOML file -> dataclass. A tier adds its section here.
SECTIONS: dict[str, type] = {
    "stage": StageSection,
    "state": StateSection,
    "network": NetworkSection,
    "load_balancer": LoadBalancerSection,
    "app_servers": AppServersSection,
    "database": DatabaseSection,
    "cache": CacheSection,
    "static_assets": StaticAssetsSection,
    "monitoring": MonitoringSection,
}


@dataclass(frozen=True)
class StageConfig:
    """One validated stage: its name, the file it came from, and one attribute per section."""

    name: str
    source: str
    stage: StageSection
    state: StateSection
    network: NetworkSection
    load_balancer: LoadBalancerSection
    app_servers: AppServersSection
    database: DatabaseSection
    cache: CacheSection
    static_assets: StaticAssetsSection
    monitoring: MonitoringSection

    @property
    def production(self) -> bool:
        return self.stage.production


@dataclass(frozen=True)
class StateBackendSettings:
    """``_state.toml``: where every stage keeps its Terraform state (made by the bootstrap stack)."""

    bucket: str = field(metadata=allowed("a globally unique S3 bucket name (3-63 lowercase letters, digits, '-')"))
    lock_table: str = field(metadata=allowed("a DynamoDB table name (3-255 of letters, digits, '_', '-', '.')"))
    region: str = field(metadata=allowed("an AWS region name such as 'eu-west-1'"))
    noncurrent_version_days: int = field(
        default=90, metadata=allowed("days (1-3650) old state versions are kept before expiry"))

    def check(self, problems: Problems, stage: StageSection | None = None) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", self.bucket):
            problems.add("bucket", self.bucket, "not an S3 bucket name", "3-63 lowercase letters, digits and '-'")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", self.lock_table):
            problems.add("lock_table", self.lock_table, "not a DynamoDB table name", "3-255 of A-Z a-z 0-9 _ - .")
        if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", self.region):
            problems.add("region", self.region, "not a region name", "an AWS region name such as 'eu-west-1'")
        if not 1 <= self.noncurrent_version_days <= 3650:
            problems.add("noncurrent_version_days", self.noncurrent_version_days, "out of range", "1 to 3650")


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise StageConfigError(f"{_display(path)}: no such stage file") from None
    except tomllib.TOMLDecodeError as error:
        raise StageConfigError(f"{_display(path)}: not valid TOML: {error}") from None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ENVIRONMENTS_DIR.parent))
    except ValueError:
        return str(path)


def parse_stage(name: str, raw: dict, source: str) -> StageConfig:
    """Validate one stage's parsed TOML. Raises StageConfigError listing every problem."""
    problems = Problems(source)
    if not STAGE_NAME.match(name):
        problems.add("(file name)", name, "not a stage name", "2-16 lowercase letters, digits and '-', starting with a letter")
    for key in raw:
        if key not in SECTIONS:
            problems.add(key, raw[key], "unknown section (a typo?)", "one of " + ", ".join(f"[{s}]" for s in SECTIONS))
    sections = {key: build_section(cls, raw.get(key), key, problems) for key, cls in SECTIONS.items()}
    if any(section is None for section in sections.values()):
        problems.raise_if_any()  # the value checks below need every section complete
    for section in sections.values():
        section.check(problems, sections["stage"])
    problems.raise_if_any()
    return StageConfig(name=name, source=source, **sections)


def load_stage(name: str, directory: Path = ENVIRONMENTS_DIR) -> StageConfig:
    path = directory / f"{name}.toml"
    return parse_stage(name, _read_toml(path), _display(path))


def stage_names(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml") if not p.name.startswith("_"))


def load_stages(directory: Path = ENVIRONMENTS_DIR, only: list[str] | None = None) -> list[StageConfig]:
    """Every stage file (or only the named ones), validated, in name order."""
    names = stage_names(directory)
    for wanted in only or []:
        if wanted not in names:
            raise StageConfigError(f"unknown stage {wanted!r}: allowed: {', '.join(names)} (files in {_display(directory)})")
    return [load_stage(name, directory) for name in names if not only or name in only]


def load_state_backend(directory: Path = ENVIRONMENTS_DIR) -> StateBackendSettings:
    path = directory / "_state.toml"
    problems = Problems(_display(path))
    settings = build_section(StateBackendSettings, _read_toml(path), "state_backend", problems)
    problems.raise_if_any()
    settings.check(problems)
    problems.raise_if_any()
    return settings


__all__ = ["StageConfig", "StageConfigError", "StateBackendSettings", "load_stage", "load_stages",
           "load_state_backend", "parse_stage", "stage_names"]
