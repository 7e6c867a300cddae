"""The cdktf app: the state bootstrap stack, the security baseline of every account and region, and
one stack per (selected) stage file."""

from __future__ import annotations

import os
from pathlib import Path

from cdktf import App

from environments import ENVIRONMENTS_DIR, load_accounts, load_stages, load_state_backend
from stacks.security_stack import SecurityBaselineStack
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
    """Validate the state, accounts and every stage file first, then build the stacks (nothing is
    written yet). Every stage file is read even when only some are selected: an account's baseline
    depends on the stages it hosts."""
    state = load_state_backend(environments_dir)
    accounts = load_accounts(environments_dir)
    every_stage = load_stages(environments_dir)  # raises StageConfigError before any construct exists
    configs = load_stages(environments_dir, only=stages) if stages else every_stage
    app = App(outdir=outdir) if outdir else App()
    StateBootstrapStack(app, state)
    for account in accounts.values():
        hosted = [config.name for config in every_stage if config.account is not None and config.account == account]
        for region in account.regions:
            SecurityBaselineStack(app, account, region, state, stages=hosted)
    for config in configs:
        StageStack(app, config, state)
    return app
