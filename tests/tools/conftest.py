"""One sandbox deployment of dev for the tools' slow tests: the sandbox's own checks and the restore drill
run on the same emulated stage (a deployment takes minutes; the machine is shared)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.tools import restore_scenario
from tools import restore, sandbox


@dataclass
class DevSandbox:
    report: sandbox.SandboxReport
    log: list[str] = field(default_factory=list)
    drill: restore_scenario.Drill | None = None


@pytest.fixture(scope="session")
def dev_sandbox(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> DevSandbox:
    """dev deployed into a fresh emulator, the restore drill run against it, then destroyed. A failing drill
    is kept (``drill.error``) for the restore test to report, and never stops the sandbox's teardown."""
    lines: list[str] = []
    names = restore.stage_names("dev")
    drills: list[restore_scenario.Drill] = []

    def exercise(endpoint: str, outputs: dict[str, Any]) -> None:
        client = restore.clients(names.region, endpoint)
        drill = restore_scenario.Drill()
        try:
            restore_scenario.run_drill(names, client, drill, tls_only_bucket=True)
        except Exception as error:  # noqa: BLE001 (reported by the restore test)
            drill.error = error
        finally:
            drills.append(drill)
            restore_scenario.forget_restored(names, client, drill, tls_only_bucket=True)

    report = sandbox.run_sandbox(
        synth_dir / "stacks" / "digital-booking-dev",
        tmp_path_factory.mktemp("sandbox") / "work",
        log=lines.append,
        exercise=exercise,
    )
    return DevSandbox(report, lines, drills[0] if drills else None)
