"""The vocabulary every tier's settings class is written in.

A tier declares what a stage may tune as one frozen dataclass (``NetworkSettings``,
``DatabaseSettings``, ...). Each field says once what it accepts, with :func:`setting`; the
class's ``check(problems, region)`` adds the AWS service's own limits (window formats, the
retention values CloudWatch Logs accepts, which classes support which feature). The stage loader
in ``environments/`` builds these classes straight from a stage file's sections and reports
through :class:`Problems`; a tier built directly from code refuses invalid settings with
:func:`require_valid`. Production rules are not here: they live in ``environments/``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import MISSING, field
from typing import Any, Protocol

#: CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
RETENTIONS = ", ".join(map(str, LOG_RETENTION_DAYS))
#: An AWS region name (``eu-west-1``, ``us-gov-west-1``).
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


def setting(default: Any = MISSING, *, allowed: str, factory: Any = MISSING) -> Any:
    """A stage-tunable field: its default (none: the stage must give it; ``factory`` makes one per
    instance, for mappings) and what it accepts."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("settings are frozen: use a tuple as default, or a factory for a mapping")
    return field(default=default, default_factory=factory, metadata={"allowed": allowed})


def allowed_text(cls: type, name: str) -> str | None:
    """What a field of a settings class accepts, as declared with :func:`setting`."""
    return next(f.metadata.get("allowed") for f in dataclasses.fields(cls) if f.name == name)


class Problems:
    """Collects what is wrong with one input (a stage file), every problem at once.

    Each line names the input, the field, the value, why it is wrong and what is allowed.
    :meth:`within` gives a tier's ``check`` a view that prefixes its own field names with the
    section the loader read them from, so tiers never know the stage file's layout."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, field_path: str, value: Any, why: str, allowed: str) -> None:
        self.lines.append(f"{self.source}: {field_path} = {value!r}: {why}; allowed: {allowed}")

    def within(self, section: str) -> SectionProblems:
        return SectionProblems(self, section)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def summary(self, what: str) -> str:
        return f"{len(self.lines)} problem(s) in {what}:\n  - " + "\n  - ".join(self.lines)


class SectionProblems:
    """:class:`Problems` of one section: ``add("azs", ...)`` reports ``network.azs``."""

    def __init__(self, problems: Problems, section: str) -> None:
        self.problems = problems
        self.section = section

    def add(self, name: str, value: Any, why: str, allowed: str) -> None:
        self.problems.add(f"{self.section}.{name}" if self.section else name, value, why, allowed)


class Settings(Protocol):
    """What every tier's settings class offers: its service limits, checked offline."""

    def check(self, problems: SectionProblems, region: str) -> None: ...


class InvalidSettings(ValueError):
    """A tier was built from code with settings AWS would refuse (the message lists each)."""


def require_valid(settings: Settings, region: str) -> None:
    """Refuse, before any resource exists, settings that the stage loader would refuse too."""
    name = type(settings).__name__
    problems = Problems(name)
    settings.check(problems.within(name), region)
    if problems:
        raise InvalidSettings(problems.summary(name))


# -- checks shared by several tiers --------------------------------------------------------------


def check_range(problems: SectionProblems, name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        problems.add(name, value, "out of range", f"{low} to {high}")


def check_retention(problems: SectionProblems, name: str, value: int) -> None:
    if value not in LOG_RETENTION_DAYS:
        problems.add(name, value, "CloudWatch Logs does not accept this retention", f"one of {RETENTIONS}")


def parse_cidr(value: str) -> ipaddress.IPv4Network | None:
    """An IPv4 network in canonical form (host bits zero), else None."""
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except (ValueError, TypeError):
        return None


# ddd:hh24:mi-ddd:hh24:mi and hh24:mi-hh24:mi, as RDS and ElastiCache accept them.
WEEKLY_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$"
)
DAILY_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
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


def check_windows(
    problems: SectionProblems, daily_field: str, daily: str, weekly: str, min_minutes: int, service: str
) -> None:
    """A daily (backup/snapshot) and the weekly maintenance window: well formed, each at least
    ``min_minutes`` long, and never overlapping (the service rejects either)."""
    daily_ok, weekly_ok = bool(DAILY_WINDOW.match(daily)), bool(WEEKLY_WINDOW.match(weekly))
    if not daily_ok:
        problems.add(daily_field, daily, "not a daily window", "'hh:mm-hh:mm' in UTC, e.g. '02:00-03:00'")
    if not weekly_ok:
        problems.add(
            "maintenance_window",
            weekly,
            "not a weekly window",
            "'ddd:hh:mm-ddd:hh:mm' in UTC, e.g. 'sun:03:30-sun:04:30'",
        )
    if daily_ok:
        start, end = (_minutes(t) for t in daily.split("-"))
        if (end - start) % (24 * 60) < min_minutes:
            problems.add(
                daily_field, daily, f"shorter than {service}'s minimum", f"a window of at least {min_minutes} minutes"
            )
    if weekly_ok and _weekly_interval(weekly)[1] < min_minutes:
        problems.add(
            "maintenance_window",
            weekly,
            f"shorter than {service}'s minimum",
            f"a window of at least {min_minutes} minutes",
        )
    if daily_ok and weekly_ok:
        start, end = (_minutes(t) for t in daily.split("-"))
        length = (end - start) % (24 * 60)
        maintenance = _weekly_interval(weekly)
        if any(_overlap(((day * 24 * 60 + start) % WEEK, length), maintenance) for day in range(7)):
            problems.add(
                "maintenance_window",
                weekly,
                f"overlaps {daily_field} ({daily})",
                f"a weekly window outside the daily {daily_field}",
            )
