"""EventBridge event patterns evaluated locally: which events a rule would send to its targets.

    from tools import event_pattern

    event_pattern.matches({"source": ["aws.guardduty"], "detail": {"severity": [{"numeric": [">=", 4]}]}}, event)

The emulator's ``TestEventPattern`` is a stub that answers nothing, so the findings rules are checked
here. The semantics are those of the EventBridge user guide: "Amazon EventBridge event patterns",
"Arrays in Amazon EventBridge event patterns" and "Content filtering in Amazon EventBridge event
patterns" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):

- every field of the pattern must match (AND); a field's list of values matches when any value does
  (OR); nested objects descend into the event;
- "If the value in the event is an array, then the event pattern matches if the intersection of the
  event pattern array and the event array is non-empty"; an object pattern against an array of
  objects looks into every element (the Security Hub findings event carries ``detail.findings`` as an
  array);
- exact strings, numbers, booleans and null; ``prefix``; ``anything-but`` (a value, a list, or a
  ``prefix``); ``numeric`` with up to two comparisons; ``exists``.

Any other content filter (``cidr``, ``suffix``, ``wildcard``, ``equals-ignore-case``, ``$or``...)
raises :class:`EventPatternError`: it is refused, never guessed at.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any


class EventPatternError(ValueError):
    """A pattern this evaluator does not understand."""


_MISSING = object()
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _leaves(value: Any) -> list[Any]:
    """The values a leaf pattern is compared with: an array's elements, else the value itself."""
    if value is _MISSING:
        return []
    return list(value) if isinstance(value, list) else [value]


def _numeric(spec: Any) -> Callable[[Any], bool]:
    if not isinstance(spec, list) or len(spec) not in (2, 4):
        raise EventPatternError(f"numeric needs [op, number] or [op, number, op, number], not {spec!r}")
    checks = []
    for op, bound in zip(spec[::2], spec[1::2], strict=True):
        if op not in _COMPARE or isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise EventPatternError(f"numeric comparison {op!r} {bound!r} is not supported")
        checks.append((_COMPARE[op], bound))

    def test(value: Any) -> bool:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and all(compare(value, bound) for compare, bound in checks)

    return test


def _anything_but(spec: Any) -> Callable[[Any], bool]:
    if isinstance(spec, dict):
        if set(spec) != {"prefix"} or not isinstance(spec["prefix"], str):
            raise EventPatternError(f"anything-but supports a value, a list or a prefix, not {spec!r}")
        prefix = spec["prefix"]
        return lambda value: isinstance(value, str) and not value.startswith(prefix)
    excluded = spec if isinstance(spec, list) else [spec]
    return lambda value: value not in excluded


def _condition(rule: Any) -> Callable[[Any], bool]:
    """One entry of a field's value list, as a test of the field's value in the event (maybe missing)."""
    if not isinstance(rule, dict):
        return lambda value: any(type(leaf) is type(rule) and leaf == rule for leaf in _leaves(value))
    if len(rule) != 1:
        raise EventPatternError(f"a content filter has exactly one operator, not {rule!r}")
    ((name, spec),) = rule.items()
    if name == "exists" and isinstance(spec, bool):
        # "Exists matching only works on leaf nodes": an object counts as absent.
        return lambda value: (value is not _MISSING and not isinstance(value, dict)) is spec
    if name == "prefix" and isinstance(spec, str):
        leaf_test: Callable[[Any], bool] = lambda leaf: isinstance(leaf, str) and leaf.startswith(spec)  # noqa: E731
    elif name == "numeric":
        leaf_test = _numeric(spec)
    elif name == "anything-but":
        leaf_test = _anything_but(spec)
    else:
        raise EventPatternError(f"content filter {name!r} is not supported")
    return lambda value: value is not _MISSING and any(leaf_test(leaf) for leaf in _leaves(value))


def _field_matches(values: list[Any], event_value: Any) -> bool:
    return any(_condition(rule)(event_value) for rule in values)


def _object_matches(pattern: dict[str, Any], event: Any) -> bool:
    if isinstance(event, list):  # an object pattern looks into every element of an array of objects
        return any(_object_matches(pattern, element) for element in event)
    for key, expected in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            if value is _MISSING or not _object_matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not expected:
                raise EventPatternError(f"{key!r}: an empty value list matches nothing")
            if not _field_matches(expected, value):
                return False
        else:
            raise EventPatternError(f"{key!r}: a pattern field is an object or a list of values, not {expected!r}")
    return True


def validate(pattern: dict[str, Any]) -> None:
    """Raise EventPatternError if any part of ``pattern`` is not understood (whatever the event)."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for rule in node:
                _condition(rule)
        else:
            raise EventPatternError(f"a pattern field is an object or a list of values, not {node!r}")

    if not isinstance(pattern, dict) or not pattern:
        raise EventPatternError("an event pattern is a non-empty JSON object")
    walk(pattern)


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether a rule with ``pattern`` matches ``event`` (an EventBridge event: source, detail-type, detail...)."""
    validate(pattern)
    return _object_matches(pattern, event)
