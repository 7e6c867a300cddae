"""From TOML tables to settings classes, and the two sections that are the stage's own.

A stage file is TOML: one table per section (``[stage]``, ``[network]``, ...). Each section is
a frozen dataclass: the tiers' settings classes in ``modules/`` and, here, :class:`StageSection`
and :class:`StateSection`. :func:`build_section` turns a table into its class using the
dataclass annotations alone: it rejects unknown keys, missing required values and wrong types,
quoting what each field accepts (declared next to the field with ``setting(allowed=...)``).
No AWS logic here: only data.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from modules.settings import REGION, Problems, SectionProblems, allowed_text, setting


class StageConfigError(ValueError):
    """A stage file is invalid. The message names the file, each field, its value and what is allowed."""


def raise_if_any(problems: Problems) -> None:
    if problems:
        raise StageConfigError(problems.summary(f"stage file {problems.source}"))


def describe(cls: type, name: str) -> str:
    """What a field accepts: its declared text, else a description of its type."""
    return allowed_text(cls, name) or _describe_type(typing.get_type_hints(cls)[name])


def _describe_type(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(v) for v in typing.get_args(tp))
    if origin in (tuple, list):
        return f"a list of {_describe_type(typing.get_args(tp)[0])}"
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return "a table of strings"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe_type(a) for a in typing.get_args(tp) if a is not type(None)) + " (optional)"
    return {str: "a string", int: "a whole number", bool: "true or false", float: "a number"}.get(tp, str(tp))


def _convert(tp: Any, value: Any) -> tuple[bool, Any]:
    """Return (ok, converted value) for a TOML value against a field annotation."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        # By type as well as value: `true` is not the 1 of Literal[0, 1, 5] (True == 1 in Python).
        return (any(type(value) is type(arg) and value == arg for arg in typing.get_args(tp)), value)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return (type(None) in typing.get_args(tp), None)
        for arg in typing.get_args(tp):
            if arg is not type(None):
                ok, out = _convert(arg, value)
                if ok:
                    return (True, out)
        return (False, value)
    if origin in (tuple, list):
        if not isinstance(value, list):
            return (False, value)
        item_type = typing.get_args(tp)[0]
        items = [_convert(item_type, v) for v in value]
        return (all(ok for ok, _ in items), tuple(v for _, v in items))
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        ok = isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        return (ok, types.MappingProxyType(dict(value)) if ok else value)
    if tp is bool:
        return (isinstance(value, bool), value)
    if tp is int:
        return (isinstance(value, int) and not isinstance(value, bool), value)
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return (ok, float(value) if ok else value)
    if tp is str:
        return (isinstance(value, str), value)
    raise TypeError(f"unsupported field type {tp!r}")


def build_section(cls: type, raw: Any, section: str, problems: Problems) -> Any:
    """Build a section dataclass from a TOML table; report unknown, missing and mistyped keys.

    None when a required value is missing or mistyped (the problems say which)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.add(section, raw, "must be a table", f"a [{section}] table")
        raw = {}
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            problems.add(f"{section}.{key}", value, "unknown key (a typo?)", "one of " + ", ".join(sorted(fields)))
            continue
        table = _table_type(hints[key])
        if table is not None:
            tables = _build_tables(table, value, f"{section}.{key}", problems, describe(cls, key))
            if tables is not None:
                values[key] = tables
            continue
        ok, converted = _convert(hints[key], value)
        if ok:
            values[key] = converted
        else:
            problems.add(f"{section}.{key}", value, "wrong type or value", describe(cls, key))
    complete = True
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in values:
            if name not in raw:
                problems.add(f"{section}.{name}", None, "missing required value", describe(cls, name))
            complete = False
    if not complete:
        return None
    return cls(**values)


def _table_type(tp: Any) -> type | None:
    """The dataclass of a ``tuple[SomeTable, ...]`` field (a TOML array of tables), else None."""
    if typing.get_origin(tp) in (tuple, list):
        item = typing.get_args(tp)[0]
        if dataclasses.is_dataclass(item) and isinstance(item, type):
            return item
    return None


def _build_tables(cls: type, raw: Any, path: str, problems: Problems, allowed: str) -> tuple[Any, ...] | None:
    """An array of tables (``[[section.key]]``), each built like a section and reported as
    ``path[index].field``; None when any of them is incomplete."""
    if not isinstance(raw, list):
        problems.add(path, raw, "wrong type or value", allowed)
        return None
    built = [build_section(cls, item, f"{path}[{index}]", problems) for index, item in enumerate(raw)]
    return tuple(built) if all(item is not None for item in built) else None


# ---------------------------------------------------------------------------------------------
# The stage's own sections: [stage] and [state]
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSection:
    """[stage]: who and where."""

    region: str = setting(allowed="an AWS region name such as 'eu-west-1'")
    production: bool = setting(False, allowed="true or false (prod rules apply when true)")
    owner: str = setting("platform-team", allowed="a non-empty string (tag owner)")
    cost_centre: str = setting("unassigned", allowed="a non-empty string (tag cost-centre)")
    tags: Mapping[str, str] = setting(
        allowed="a table of extra string tags", factory=lambda: types.MappingProxyType({})
    )
    #: The AWS account the stage runs in (``environments/_accounts.toml``): its provider refuses any other.
    account: str | None = setting(
        None,
        allowed="the name of an account in environments/_accounts.toml, e.g. 'nonprod' (required in production)",
    )
    #: The disaster-recovery region: copies of the stage's data (backups, media, database logs) live there.
    dr_region: str | None = setting(
        None,
        allowed=(
            "an AWS region other than region, e.g. 'eu-central-1', where the stage's backups, media replica and"
            " database backup replication live (required in production; unset: no copy outside the region)"
        ),
    )

    def check(self, problems: SectionProblems, region: str) -> None:
        if not REGION.match(self.region):
            problems.add("region", self.region, "not a region name", "an AWS region name such as 'eu-west-1'")
        if self.dr_region is not None and (not REGION.match(self.dr_region) or self.dr_region == self.region):
            problems.add(
                "dr_region",
                self.dr_region,
                "not a second region (a copy in the same region does not survive its outage)",
                f"an AWS region name other than {self.region!r}, e.g. 'eu-central-1'",
            )
        for name in ("owner", "cost_centre"):
            if not getattr(self, name).strip():
                problems.add(name, getattr(self, name), "empty", "a non-empty string")


@dataclass(frozen=True)
class StateSection:
    """[state]: how this stage's Terraform state is locked."""

    use_lockfile: bool = setting(
        True, allowed=("true or false: also lock with S3 conditional writes (<key>.tflock) next to DynamoDB")
    )
    dynamodb_lock: bool = setting(
        True, allowed=("true or false: lock with the DynamoDB table (deprecated in Terraform 1.11)")
    )

    def check(self, problems: SectionProblems, region: str) -> None:
        if not (self.use_lockfile or self.dynamodb_lock):
            problems.add(
                "use_lockfile",
                self.use_lockfile,
                "state would have no lock at all",
                "at least one of state.use_lockfile or state.dynamodb_lock true",
            )
