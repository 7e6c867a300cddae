"""The README's recovery objectives are derived from the stage files, and every failure has a runbook."""

from __future__ import annotations

import re
from pathlib import Path

from environments import load_stages, parse_stage
from tests.environments.stage_edits import shipped
from tools import recovery_objectives

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_the_readme_table_is_what_the_stage_files_give():
    expected = recovery_objectives.markdown(load_stages())
    actual = recovery_objectives.readme_section((PROJECT_DIR / "README.md").read_text())
    assert actual == expected, (
        "README.md's recovery objectives are stale: .venv/bin/python -m tools.recovery_objectives --write"
    )


def test_every_failure_links_to_its_runbook():
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in (PROJECT_DIR / "docs" / "runbooks.md").read_text().splitlines()
        if line.startswith("## ")
    }
    failures = recovery_objectives.objectives(load_stages(only=["prod"])[0])
    assert [f.runbook for f in failures] == [
        "az-loss",
        "bad-deploy",
        "data-corruption",
        "deleted-bucket-objects",
        "regional-outage",
        "compromised-account",
    ]
    assert {f.runbook for f in failures} <= headings


def objectives_of(name: str, **edits: dict) -> dict[str, recovery_objectives.Objective]:
    raw = shipped(name)
    for section, values in edits.items():
        for key, value in values.items():
            if value is None:
                raw[section].pop(key, None)
            else:
                raw[section][key] = value
    config = parse_stage(name, raw, f"environments/{name}.toml")
    return {o.runbook: o for o in recovery_objectives.objectives(config)}


def test_the_objectives_follow_the_settings():
    prod = objectives_of("prod")
    assert prod["az-loss"].rpo.startswith("0 ") and "Multi-AZ failover" in prod["az-loss"].rto
    assert "within 14 d" in prod["data-corruption"].rpo
    assert "within 21 d" in objectives_of("prod", database={"backup_retention_days": 21})["data-corruption"].rpo
    assert "replicated transaction logs" in prod["regional-outage"].rpo
    assert "locked vaults" in prod["compromised-account"].rpo
    staging = objectives_of("staging")
    assert "daily copies" in staging["regional-outage"].rpo
    assert "administrator can lift" in staging["compromised-account"].rpo
    dev = objectives_of("dev")
    assert "make restore" in dev["az-loss"].rto and dev["regional-outage"].rto == "not recoverable"
    without_dr = objectives_of("staging", stage={"dr_region": None})
    assert without_dr["regional-outage"].rpo == "no copy outside the region"
