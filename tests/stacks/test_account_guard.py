"""The wrong-account guard: every stage stack's provider runs only in the account its stage names.

AWS provider docs (registry.terraform.io/providers/hashicorp/aws/5.100.0/docs, ``allowed_account_ids``):
"List of allowed AWS account IDs to prevent you from mistakenly using an incorrect one (and potentially
end up destroying a live environment)". The refusal itself is run against the emulator in
tests/tools/test_emulator.py.
"""

from __future__ import annotations

import copy
import json

import cdktf

from environments import load_stage, load_state_backend, parse_stage
from stacks.stage_stack import StageStack
from tests.environments.stage_edits import shipped


def provider_of(document: dict) -> dict:
    (provider,) = document["provider"]["aws"]
    return provider


def test_every_stage_provider_allows_only_its_own_account(stage_stack):
    account = load_stage(stage_stack.stage).account
    assert account is not None, "every shipped stage names its account"
    assert provider_of(stage_stack.json)["allowed_account_ids"] == [account.id]


def test_prod_and_the_other_stages_allow_different_accounts(stacks):
    allowed = {name: provider_of(s.json).get("allowed_account_ids") for name, s in stacks.items()}
    assert allowed["digital-booking-prod"] == ["444455556666"]
    assert allowed["digital-booking-dev"] == allowed["digital-booking-staging"] == ["111122223333"]


def test_a_stage_without_an_account_has_no_allow_list():
    raw = copy.deepcopy(shipped("dev"))
    del raw["stage"]["account"]
    stack = StageStack(cdktf.Testing.app(), parse_stage("dev", raw, "environments/dev.toml"), load_state_backend())
    assert "allowed_account_ids" not in provider_of(json.loads(cdktf.Testing.synth(stack)))
