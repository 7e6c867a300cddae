"""modules/kit.py: what every tier gets from the kit, checked across every stack.

Every bucket of every stack, state included, gets the whole baseline (the tier tests check their
own buckets in detail; these fail when a bucket added later skips the helper). Partition and
account are looked up once per stack and never written out in modules/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from environments import stage_names
from tests.conftest import SECURITY_STACKS
from tests.tf_json import SynthesizedStack, refers_to

STACK_NAMES = ["digital-booking-state", *(f"digital-booking-{stage}" for stage in stage_names()), *SECURITY_STACKS]
MODULES_DIR = Path(__file__).resolve().parents[2] / "modules"


def settings_of(stack: SynthesizedStack, setting_type: str, bucket_name: str) -> list[dict]:
    """The ``setting_type`` resources that point at bucket ``bucket_name``."""
    return [
        config
        for config in stack.resources(setting_type).values()
        if refers_to(config["bucket"], "aws_s3_bucket", bucket_name)
    ]


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_bucket_blocks_all_public_access(stacks, stack_name):
    stack = stacks[stack_name]
    assert stack.resources("aws_s3_bucket")
    for bucket_name in stack.resources("aws_s3_bucket"):
        [block] = settings_of(stack, "aws_s3_bucket_public_access_block", bucket_name)
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        assert all(block[flag] is True for flag in flags), bucket_name


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_bucket_is_versioned_and_owner_owns_every_object(stacks, stack_name):
    stack = stacks[stack_name]
    for bucket_name in stack.resources("aws_s3_bucket"):
        [versioning] = settings_of(stack, "aws_s3_bucket_versioning", bucket_name)
        assert versioning["versioning_configuration"]["status"] == "Enabled", bucket_name
        [ownership] = settings_of(stack, "aws_s3_bucket_ownership_controls", bucket_name)
        assert ownership["rule"]["object_ownership"] in {"BucketOwnerEnforced", "BucketOwnerPreferred"}, bucket_name


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_bucket_is_encrypted_at_rest(stacks, stack_name):
    stack = stacks[stack_name]
    for bucket_name in stack.resources("aws_s3_bucket"):
        [encryption] = settings_of(stack, "aws_s3_bucket_server_side_encryption_configuration", bucket_name)
        [rule] = encryption["rule"]
        default = rule["apply_server_side_encryption_by_default"]
        if default["sse_algorithm"] == "aws:kms":
            assert default["kms_master_key_id"] and rule["bucket_key_enabled"] is True, bucket_name
        else:
            assert default["sse_algorithm"] == "AES256", bucket_name


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_partition_and_account_are_looked_up_once_per_stack(stacks, stack_name):
    stack = stacks[stack_name]
    assert list(stack.data("aws_caller_identity")) == ["account"]
    assert list(stack.data("aws_partition")) == ["partition"]


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_no_arn_spells_out_the_partition(stacks, stack_name):
    assert not re.search(r"arn:aws:(?!acm:)", json.dumps(stacks[stack_name].json.get("resource", {})))


def test_no_module_writes_an_arn_partition_literally():
    """Only the documentation of a certificate ARN's shape may say ``arn:aws:``; every ARN built is
    ``arn:${partition}:``, so the same code serves aws-cn and aws-us-gov."""
    for path in MODULES_DIR.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "arn:aws" in line:
                assert "acm" in line, f"{path.name}:{number}: {line.strip()}"
