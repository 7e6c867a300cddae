"""The shape of a stage file, and the generic checks every field gets.

A stage file is TOML: one table per section (``[stage]``, ``[network]``, ...). Each section is
a frozen dataclass below (or in a sibling module); the loader in ``environments/__init__.py``
turns tables into these classes with :func:`build_section`, which rejects unknown keys, missing
required values and wrong types using the dataclass annotations alone. What a field means and
what is allowed lives next to the field, in ``field(metadata=allowed("..."))``.

Rules that look at values (CIDR overlap, min <= max, ...) live in each section's
``check(problems, stage)`` method (``stage`` is the [stage] section, for production rules) and
report through :class:`Problems`, so a broken stage file yields one message that
lists every bad field with its value and what is allowed. No AWS logic here: only data.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)


class StageConfigError(ValueError):
    """A stage file is invalid. The message names the file, each field, its value and what is allowed."""


def allowed(text: str) -> dict[str, str]:
    """Field metadata: what a field accepts, quoted in error messages."""
    return {"allowed": text}


class Problems:
    """Collects the problems of one stage file; raises them together as one StageConfigError."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, field_path: str, value: Any, why: str, allowed_text: str) -> None:
        self.lines.append(f"{self.source}: {field_path} = {value!r}: {why}; allowed: {allowed_text}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise StageConfigError(
                f"{len(self.lines)} problem(s) in stage file {self.source}:\n  - " + "\n  - ".join(self.lines)
            )


def allowed_text(cls: type, name: str) -> str:
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return f.metadata.get("allowed", _describe_type(typing.get_type_hints(cls)[name]))


def _describe_type(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(v) for v in typing.get_args(tp))
    if origin in (tuple, list):
        return f"a list of {_describe_type(typing.get_args(tp)[0])}"
    if origin in (dict, Mapping, typing.get_origin(Mapping[str, str])):
        return "a table of strings"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe_type(a) for a in typing.get_args(tp) if a is not type(None)) + " (optional)"
    return {str: "a string", int: "a whole number", bool: "true or false", float: "a number"}.get(tp, str(tp))


def _convert(tp: Any, value: Any) -> tuple[bool, Any]:
    """Return (ok, converted value) for a TOML value against a field annotation."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return (value in typing.get_args(tp), value)
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
    if origin is not None and issubclass(origin, Mapping):
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
    """Build a section dataclass from a TOML table; report unknown, missing and mistyped keys."""
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
        ok, converted = _convert(hints[key], value)
        if ok:
            values[key] = converted
        else:
            problems.add(f"{section}.{key}", value, "wrong type or value", allowed_text(cls, key))
    complete = True
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in values:
            if name not in raw:
                problems.add(f"{section}.{name}", None, "missing required value", allowed_text(cls, name))
            complete = False
    if not complete:
        return None
    return cls(**values)


# ---------------------------------------------------------------------------------------------
# Value checks shared by several sections
# ---------------------------------------------------------------------------------------------

def parse_cidr(value: str) -> ipaddress.IPv4Network | None:
    """An IPv4 network in canonical form (host bits zero), else None."""
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except (ValueError, TypeError):
        return None


def check_range(problems: Problems, field_path: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        problems.add(field_path, value, "out of range", f"{low} to {high}")


def check_retention(problems: Problems, field_path: str, value: int) -> None:
    if value not in LOG_RETENTION_DAYS:
        problems.add(field_path, value, "CloudWatch Logs does not accept this retention",
                     "one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))


AZ_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")


# ---------------------------------------------------------------------------------------------
# Sections of the foundation: [stage], [state], [network]
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StageSection:
    """[stage]: who and where."""

    region: str = field(metadata=allowed("an AWS region name such as 'eu-west-1'"))
    production: bool = field(default=False, metadata=allowed("true or false (prod rules apply when true)"))
    owner: str = field(default="platform-team", metadata=allowed("a non-empty string (tag owner)"))
    cost_centre: str = field(default="unassigned", metadata=allowed("a non-empty string (tag cost-centre)"))
    tags: Mapping[str, str] = field(default_factory=dict, metadata=allowed("a table of extra string tags"))

    def check(self, problems: Problems, stage: "StageSection") -> None:
        if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", self.region):
            problems.add("stage.region", self.region, "not a region name", "an AWS region name such as 'eu-west-1'")
        for name in ("owner", "cost_centre"):
            if not getattr(self, name).strip():
                problems.add(f"stage.{name}", getattr(self, name), "empty", "a non-empty string")


@dataclass(frozen=True)
class StateSection:
    """[state]: how this stage's Terraform state is locked."""

    use_lockfile: bool = field(
        default=True,
        metadata=allowed("true or false: also lock with S3 conditional writes (<key>.tflock) next to DynamoDB"),
    )
    dynamodb_lock: bool = field(
        default=True,
        metadata=allowed("true or false: lock with the DynamoDB table (deprecated in Terraform 1.11)"),
    )

    def check(self, problems: Problems, stage: StageSection) -> None:
        if not (self.use_lockfile or self.dynamodb_lock):
            problems.add("state.use_lockfile", self.use_lockfile, "state would have no lock at all",
                         "at least one of state.use_lockfile or state.dynamodb_lock true")


@dataclass(frozen=True)
class NetworkSection:
    """[network]: the VPC and its three subnet tiers, one subnet of each tier per AZ."""

    vpc_cidr: str = field(metadata=allowed("an IPv4 CIDR such as '10.10.0.0/16', prefix /16 to /24"))
    azs: tuple[str, ...] = field(metadata=allowed("distinct AZ names of the stage's region, e.g. 'eu-west-1a'"))
    public_subnets: tuple[str, ...] = field(metadata=allowed("one IPv4 CIDR per AZ inside vpc_cidr"))
    private_app_subnets: tuple[str, ...] = field(metadata=allowed("one IPv4 CIDR per AZ inside vpc_cidr"))
    private_data_subnets: tuple[str, ...] = field(metadata=allowed("one IPv4 CIDR per AZ inside vpc_cidr"))
    nat_gateways: Literal["single", "per_az"] = field(
        default="per_az", metadata=allowed("'single' (one NAT for the stage) or 'per_az' (required in prod)"))
    flow_log_retention_days: int = field(
        default=90, metadata=allowed("a CloudWatch retention: " + ", ".join(map(str, LOG_RETENTION_DAYS))))

    def check(self, problems: Problems, stage: StageSection) -> None:
        minimum_azs = 3 if stage.production else 2
        if len(self.azs) < minimum_azs:
            problems.add("network.azs", list(self.azs), f"{len(self.azs)} AZ(s) is fewer than this stage needs",
                         f"at least {minimum_azs} distinct AZs ({'production' if stage.production else 'any'} stage;"
                         " the ALB needs 2, prod needs 3)")
        if len(set(self.azs)) != len(self.azs):
            problems.add("network.azs", list(self.azs), "an AZ is listed twice", "distinct AZ names")
        for az in self.azs:
            if not (AZ_PATTERN.match(az) and az[:-1] == stage.region):
                problems.add("network.azs", az, f"not an AZ of region {stage.region}",
                             f"AZ names of {stage.region} such as '{stage.region}a'")
        if stage.production and self.nat_gateways != "per_az":
            problems.add("network.nat_gateways", self.nat_gateways,
                         "a production stage must not lose egress with one AZ", "'per_az' in a production stage")
        check_retention(problems, "network.flow_log_retention_days", self.flow_log_retention_days)

        vpc = parse_cidr(self.vpc_cidr)
        if vpc is None or not 16 <= vpc.prefixlen <= 24:
            problems.add("network.vpc_cidr", self.vpc_cidr, "not a valid VPC CIDR",
                         "an IPv4 CIDR with host bits zero, prefix /16 to /24, e.g. '10.10.0.0/16'")
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for tier in ("public_subnets", "private_app_subnets", "private_data_subnets"):
            cidrs = getattr(self, tier)
            if len(cidrs) != len(self.azs):
                problems.add(f"network.{tier}", list(cidrs), f"{len(cidrs)} subnet(s) for {len(self.azs)} AZ(s)",
                             "exactly one CIDR per AZ, in the order of network.azs")
            for index, text in enumerate(cidrs):
                path = f"network.{tier}[{index}]"
                net = parse_cidr(text)
                if net is None or not 16 <= net.prefixlen <= 28:
                    problems.add(path, text, "not a valid subnet CIDR",
                                 "an IPv4 CIDR with host bits zero, prefix /16 to /28, e.g. '10.10.1.0/24'")
                    continue
                if vpc is not None and not net.subnet_of(vpc):
                    problems.add(path, text, f"outside the VPC {self.vpc_cidr}", f"a CIDR inside {self.vpc_cidr}")
                for other_path, other in seen:
                    if net.overlaps(other):
                        problems.add(path, text, f"overlaps {other_path} ({other})", "non-overlapping subnet CIDRs")
                seen.append((path, net))
