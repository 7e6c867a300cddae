"""Small readers for synthesized ``cdk.tf.json``, so tests say what they check, not how to dig."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_REF = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")


@dataclass(frozen=True)
class SynthesizedStack:
    name: str
    json: dict[str, Any]

    @property
    def stage(self) -> str:
        return self.name.removeprefix("digital-booking-")

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Every resource of a type, by its Terraform name (``{}`` if none)."""
        return self.json.get("resource", {}).get(resource_type, {})

    def only(self, resource_type: str, within: str | None = None) -> dict[str, Any]:
        """The single resource of a type (fails the test if there are 0 or several); ``within``: only those
        of one tier (its construct id, e.g. ``load-balancer``)."""
        found = {n: r for n, r in self.resources(resource_type).items() if within is None or n.startswith(f"{within}_")}
        assert len(found) == 1, f"{self.name}: expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.values()))

    def data(self, data_type: str) -> dict[str, dict[str, Any]]:
        return self.json.get("data", {}).get(data_type, {})

    def outputs(self) -> dict[str, Any]:
        return self.json.get("output", {})

    def backend(self) -> dict[str, Any]:
        return self.json["terraform"]["backend"]

    def address_of(self, resource_type: str, config: dict[str, Any]) -> str:
        """Terraform address of a resource config object found through resources()."""
        for name, candidate in self.resources(resource_type).items():
            if candidate is config:
                return f"{resource_type}.{name}"
        raise KeyError(resource_type)


def references(value: Any) -> set[tuple[str, str]]:
    """Every ``(type, name)`` a value interpolates, e.g. ``${aws_nat_gateway.x.id}``."""
    return set(_REF.findall(value if isinstance(value, str) else repr(value)))


def refers_to(value: Any, resource_type: str, name: str) -> bool:
    return (resource_type, name) in references(value)
