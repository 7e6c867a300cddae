"""Break one value of a shipped stage file and read the error: the bad-input tests' one helper."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable

import pytest

from environments import ENVIRONMENTS_DIR, StageConfigError, parse_stage


def shipped(stage: str) -> dict:
    """A shipped stage file, parsed (a fresh copy every call)."""
    return tomllib.loads((ENVIRONMENTS_DIR / f"{stage}.toml").read_text())


def rejection_of_edit(stage: str, edit: Callable[[dict], None]) -> str:
    """Apply ``edit`` to a copy of a shipped stage file; return the error message it must raise."""
    raw = copy.deepcopy(shipped(stage))
    edit(raw)
    with pytest.raises(StageConfigError) as caught:
        parse_stage(stage, raw, f"environments/{stage}.toml")
    return str(caught.value)


def rejection(stage: str, section: str, **changes) -> str:
    """Change values of one section of a shipped stage file (None deletes a key); return the error message."""

    def edit(raw: dict) -> None:
        for key, value in changes.items():
            if value is None:
                raw.setdefault(section, {}).pop(key, None)
            else:
                raw.setdefault(section, {})[key] = value

    return rejection_of_edit(stage, edit)
