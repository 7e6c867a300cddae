"""Shared fixtures: the whole app is synthesized once per test session.

Tests read the same ``cdk.tf.json`` files that ``make synth`` writes and terraform consumes,
so what they assert is what gets deployed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from environments import load_accounts, stage_names  # noqa: E402
from stacks.app import build_app  # noqa: E402  (after the env var: jsii starts on import)
from stacks.security_stack import security_stack_name  # noqa: E402
from tests.tf_json import SynthesizedStack  # noqa: E402

#: Every stage file: a new file is tested like the shipped ones, with no edit here.
STAGES = tuple(stage_names())
#: Every account's security baseline, one stack per account and region of environments/_accounts.toml:
#: stack name -> (account, region).
SECURITY_STACK_PLACES = {
    security_stack_name(account.name, region): (account, region)
    for account in load_accounts().values()
    for region in account.regions
}
SECURITY_STACKS = tuple(SECURITY_STACK_PLACES)
#: The baselines of the accounts' home regions: they alone hold the trail, the CIS alarms and the account-wide settings.
HOME_SECURITY_STACKS = tuple(
    name for name, (account, region) in SECURITY_STACK_PLACES.items() if region == account.home_region
)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cdktf.out`` of the whole app (state stack + every stage), synthesized once."""
    outdir = tmp_path_factory.mktemp("cdktf.out")
    build_app(outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> dict[str, SynthesizedStack]:
    """Every synthesized stack by name: ``stacks["digital-booking-prod"]``."""
    return {
        d.name: SynthesizedStack(d.name, json.loads((d / "cdk.tf.json").read_text()))
        for d in sorted((synth_dir / "stacks").iterdir())
    }


@pytest.fixture(scope="session", params=STAGES)
def stage_stack(request: pytest.FixtureRequest, stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    """Each stage's stack in turn (parametrized over the stage files)."""
    return stacks[f"digital-booking-{request.param}"]


@pytest.fixture(scope="session", params=SECURITY_STACKS)
def security_stack(request: pytest.FixtureRequest, stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    """Each account's security baseline stack in turn (one per account and region)."""
    return stacks[request.param]


@pytest.fixture(scope="session", params=HOME_SECURITY_STACKS)
def home_security_stack(request: pytest.FixtureRequest, stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    """Each account's baseline in its home region in turn."""
    return stacks[request.param]


@pytest.fixture(scope="session")
def prod_security(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    """The production account's baseline in its home region (the trail, the CIS alarms, data events)."""
    return stacks["digital-booking-security-prod-eu-west-1"]


@pytest.fixture(scope="session")
def prod(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["digital-booking-prod"]


@pytest.fixture(scope="session")
def dev(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["digital-booking-dev"]


@pytest.fixture(autouse=True)
def _emulator_tests_are_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that starts the emulator must be marked ``emulator``: CI runs those in their own job
    (`make test-emulator`), beside the checks the plan comments wait for (`make test-pr`)."""
    if request.node.get_closest_marker("emulator") is not None:
        return
    from tools import emulator

    def refuse(self: emulator.MotoServer) -> emulator.MotoServer:
        raise AssertionError(f"{request.node.nodeid} starts the emulator: mark it @pytest.mark.emulator")

    monkeypatch.setattr(emulator.MotoServer, "start", refuse)
