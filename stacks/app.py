"""The cdktf app: the state bootstrap stack plus one stack per (selected) stage file."""

from __future__ import annotations

import os
from pathlib import Path

from cdktf import App

from environments import ENVIRONMENTS_DIR, load_stages, load_state_backend
from stacks.stage_stack import StageStack
from stacks.state_stack import StateBootstrapStack

#: Comma-separated stage names to synthesize only those (``make synth STAGE=dev`` sets it).
STAGES_VARIABLE = "DIGITAL_BOOKING_STAGES"


def selected_stages() -> list[str] | None:
    value = os.environ.get(STAGES_VARIABLE, "").strip()
    return [s.strip() for s in value.split(",") if s.strip()] or None


def build_app(
    outdir: str | None = None, stages: list[str] | None = None, environments_dir: Path = ENVIRONMENTS_DIR
) -> App:
    """Validate every selected stage file first, then build the stacks (nothing is written yet)."""
    state = load_state_backend(environments_dir)
    configs = load_stages(environments_dir, only=stages)  # raises StageConfigError before any construct exists
    app = App(outdir=outdir) if outdir else App()
    StateBootstrapStack(app, state)
    for config in configs:
        StageStack(app, config, state)
    return app
