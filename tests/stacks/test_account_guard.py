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


def allow_lists(document: dict) -> dict[str, list[str] | None]:
    """Each AWS provider of a stack (by alias, "" for the default one) and its allow list."""
    return {p.get("alias", ""): p.get("allowed_account_ids") for p in document["provider"]["aws"]}


def test_every_provider_of_a_stage_allows_only_its_own_account(stage_stack):
    """The default provider and the us-east-1 edge one alike: either could change the wrong account."""
    account = load_stage(stage_stack.stage).account
    assert account is not None, "every shipped stage names its account"
    allowed = allow_lists(stage_stack.json)
    assert len(allowed) >= 2 and all(ids == [account.id] for ids in allowed.values()), allowed


def test_prod_and_the_other_stages_allow_different_accounts(stacks):
    allowed = {name: allow_lists(stacks[name].json)[""] for name in ("digital-booking-dev", "digital-booking-staging")}
    assert allow_lists(stacks["digital-booking-prod"].json)[""] == ["444455556666"]
    assert allowed["digital-booking-dev"] == allowed["digital-booking-staging"] == ["111122223333"]


def test_a_stage_without_an_account_has_no_allow_list():
    raw = copy.deepcopy(shipped("dev"))
    del raw["stage"]["account"]
    stack = StageStack(cdktf.Testing.app(), parse_stage("dev", raw, "environments/dev.toml"), load_state_backend())
    assert set(allow_lists(json.loads(cdktf.Testing.synth(stack))).values()) == {None}
