"""The security baseline stacks: one per account and region, nothing created twice in an account, their
own state key in the stages' backend, and the same wrong-account guard as the stages."""

from __future__ import annotations

import dataclasses
import json

import cdktf

from environments import load_accounts, load_state_backend
from stacks.security_stack import SecurityBaselineStack, security_stack_name, security_state_key
from tests.conftest import SECURITY_STACKS
from tests.tf_json import SynthesizedStack

#: What an account holds exactly once, in its home region's stack.
ONCE_PER_ACCOUNT = (
    "aws_cloudtrail",
    "aws_cloudwatch_log_metric_filter",
    "aws_s3_account_public_access_block",
    "aws_iam_service_linked_role",
)
#: What every region of an account has.
EVERY_REGION = (
    "aws_guardduty_detector",
    "aws_securityhub_account",
    "aws_config_configuration_recorder",
    "aws_accessanalyzer_analyzer",
    "aws_ebs_encryption_by_default",
    "aws_ebs_default_kms_key",
    "aws_ebs_snapshot_block_public_access",
    "aws_cloudwatch_event_rule",
    "aws_sns_topic",
)


def test_one_baseline_per_account_and_region_however_many_stages_share_it(stacks):
    """dev and staging share the nonprod account: one baseline for both."""
    assert sorted(name for name in stacks if name.startswith("digital-booking-security-")) == sorted(SECURITY_STACKS)
    assert SECURITY_STACKS == (
        "digital-booking-security-nonprod-eu-west-1",
        "digital-booking-security-nonprod-eu-central-1",
        "digital-booking-security-prod-eu-west-1",
        "digital-booking-security-prod-eu-central-1",
    )


def test_each_account_has_one_trail_and_one_s3_account_block(stacks):
    for account in load_accounts().values():
        baselines = [stacks[security_stack_name(account.name, region)] for region in account.regions]
        for resource_type in ("aws_cloudtrail", "aws_s3_account_public_access_block"):
            assert sum(len(s.resources(resource_type)) for s in baselines) == 1, (account.name, resource_type)


def test_the_baseline_keeps_its_state_in_the_stages_backend_under_its_own_key(security_stack, dev):
    backend = security_stack.backend()["s3"]
    account, region = {
        security_stack_name(a.name, r): (a.name, r) for a in load_accounts().values() for r in a.regions
    }[security_stack.name]
    assert backend["key"] == security_state_key(account, region) == f"security/{account}/{region}/terraform.tfstate"
    stage_backend = dev.backend()["s3"]
    assert {k: v for k, v in backend.items() if k != "key"} == {k: v for k, v in stage_backend.items() if k != "key"}


def test_every_state_key_is_distinct(stacks):
    keys = [s.backend()["s3"]["key"] for name, s in stacks.items() if name != "digital-booking-state"]
    assert len(keys) == len(set(keys))


def test_the_baseline_runs_only_in_its_own_account(security_stack):
    (provider,) = security_stack.json["provider"]["aws"]
    ids = {
        a.id
        for a in load_accounts().values()
        for r in a.regions
        if security_stack_name(a.name, r) == security_stack.name
    }
    assert provider["allowed_account_ids"] == sorted(ids)


def synth_baseline(account, region: str) -> SynthesizedStack:
    stack = SecurityBaselineStack(cdktf.Testing.app(), account, region, load_state_backend(), stages=["prod"])
    return SynthesizedStack(stack.node.id, json.loads(cdktf.Testing.synth(stack)))


def test_a_second_region_gets_detection_and_guards_but_nothing_account_wide():
    """An account in two regions: the multi-region trail, its CIS alarms and the (global) S3 account block
    exist in the home region only; AWS Config records the global IAM types there only."""
    account = dataclasses.replace(load_accounts()["prod"], regions=("eu-west-1", "eu-central-1"))
    home, second = synth_baseline(account, "eu-west-1"), synth_baseline(account, "eu-central-1")
    for resource_type in ONCE_PER_ACCOUNT:
        assert home.resources(resource_type) and not second.resources(resource_type), resource_type
    for resource_type in EVERY_REGION:
        assert home.resources(resource_type) and second.resources(resource_type), resource_type
    for stack, records_global in ((home, True), (second, False)):
        (recorder,) = stack.resources("aws_config_configuration_recorder").values()
        assert recorder["recording_group"]["include_global_resource_types"] is records_global
    # IAM is global: AWS Config's service-linked role is created once, in the home region, and used in both.
    assert home.resources("aws_iam_service_linked_role") and not second.resources("aws_iam_service_linked_role")
    (recorder,) = second.resources("aws_config_configuration_recorder").values()
    assert recorder["role_arn"].endswith(":role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")
    # Regional names that are global (buckets) carry the region.
    buckets = [b["bucket"] for s in (home, second) for b in s.resources("aws_s3_bucket").values()]
    assert len(buckets) == len(set(buckets))
