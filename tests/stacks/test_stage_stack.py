"""The stage stack's shape: tiers take what they cannot work without, settings are declared once (in
their tier), and tiers meet only through intent methods."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import cdktf
import pytest

import environments
import environments.accounts
from environments import SECTIONS
from environments.schema import StageSection, StateSection
from modules.app_servers import AppServerFleet
from modules.backup import StageBackups
from modules.cache import BookingCache
from modules.database import BookingDatabase
from modules.load_balancer import PublicLoadBalancer
from modules.monitoring import PlatformAlarms, StageAlerting
from modules.network import Network
from modules.static_assets import StaticAssets
from stacks import stage_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]
TIERS = (
    Network,
    PublicLoadBalancer,
    AppServerFleet,
    BookingDatabase,
    BookingCache,
    StaticAssets,
    StageAlerting,
    PlatformAlarms,
    StageBackups,
)


@pytest.mark.parametrize("tier", TIERS, ids=lambda tier: tier.__name__)
def test_a_tier_without_its_settings_and_stage_does_not_build(tier):
    with pytest.raises(TypeError, match="missing"):
        tier(cdktf.TerraformStack(cdktf.Testing.app(), "bare"), "tier")


def test_modules_never_import_environments():
    for path in (PROJECT_DIR / "modules").glob("*.py"):
        imported = {
            alias.name
            for node in ast.walk(ast.parse(path.read_text()))
            for alias in (node.names if isinstance(node, ast.Import) else [])
        }
        imported |= {
            node.module or "" for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
        }
        assert not {m for m in imported if m.split(".")[0] in ("environments", "stacks")}, path.name


def test_every_tier_setting_is_declared_once_in_its_tier():
    """The loader builds the tiers' settings classes; environments/ declares only the stage's own
    sections, and none of their fields is also a tier's."""
    tier_classes = [cls for section, cls in SECTIONS.items() if section not in ("stage", "state")]
    assert all(cls.__module__.startswith("modules.") for cls in tier_classes)
    tier_fields = {f.name for cls in tier_classes for f in dataclasses.fields(cls)}
    for own in (StageSection, StateSection):
        assert not {f.name for f in dataclasses.fields(own)} & tier_fields, own.__name__
    declared_in_environments = {
        name
        for module in (environments, environments.schema, environments.accounts)
        for name, value in vars(module).items()
        if dataclasses.is_dataclass(value) and value.__module__.startswith("environments")
    }
    # The stage's own sections, and the accounts file's (whose baseline settings are a module's class).
    assert declared_in_environments == {
        "StageConfig",
        "StageSection",
        "StateSection",
        "AccountSection",
        "AccountConfig",
    }


def test_the_stage_stack_hands_no_ids_or_names_from_tier_to_tier():
    """Tiers meet through ``register_with``, ``allow_from`` and ``grant_*``: the stack never copies a
    security group id, a role name or an ARN out of one tier into another's constructor."""
    source = inspect.getsource(stage_stack.StageStack.__init__)
    for token in ("security_group_id", "role_name", "_arn", "arn_suffix", "getattr"):
        assert token not in source.replace("alarm_topic_arn", "").replace("log_kms_key_arn", ""), token
