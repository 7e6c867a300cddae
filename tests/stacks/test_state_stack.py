"""The bootstrap stack: a state bucket and lock table as the platform baseline's State section asks."""

from __future__ import annotations

import json
import re

import pytest

from environments import load_state_backend
from tests.test_style import make_recipe


@pytest.fixture(scope="module")
def state(stacks):
    return stacks["digital-booking-state"]


def test_bootstrap_stays_on_local_state(state):
    assert list(state.json["terraform"]["backend"]) == ["local"]


def test_bootstrap_state_lives_outside_what_make_clean_removes(state):
    """The backend's path, resolved from the stack directory terraform runs in, is
    ``bootstrap-state/`` in the project root: not under cdktf.out, .tools or .pytest_cache (the
    Makefile's clean), and git-ignored."""
    import subprocess

    from stacks.state_stack import BOOTSTRAP_STATE_FILE
    from tools.terraform_cli import PROJECT_DIR

    stack_dir = PROJECT_DIR / "cdktf.out" / "stacks" / "digital-booking-state"
    resolved = (stack_dir / state.json["terraform"]["backend"]["local"]["path"]).resolve()
    assert resolved == (PROJECT_DIR / BOOTSTRAP_STATE_FILE).resolve()
    _, clean = make_recipe("clean")
    removed = clean.split("rm -rf", 1)[1].split()
    assert not any(resolved.is_relative_to((PROJECT_DIR / name).resolve()) for name in removed), removed
    ignored = subprocess.run(["git", "check-ignore", "-q", BOOTSTRAP_STATE_FILE], cwd=PROJECT_DIR)
    assert ignored.returncode == 0, "the bootstrap state must be git-ignored"


def test_bucket_is_named_as_the_stage_backends_expect(state):
    assert state.only("aws_s3_bucket")["bucket"] == load_state_backend().bucket


def test_bucket_blocks_every_kind_of_public_access(state):
    block = state.only("aws_s3_bucket_public_access_block")
    assert all(
        block[flag] is True
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )


def test_bucket_ownership_is_enforced(state):
    assert state.only("aws_s3_bucket_ownership_controls")["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_bucket_is_versioned(state):
    assert state.only("aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"


def test_bucket_is_encrypted_with_kms(state):
    (rule,) = state.only("aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    assert "aws_kms_key" in rule["apply_server_side_encryption_by_default"]["kms_master_key_id"]


def statements(state) -> dict:
    return {s["Sid"]: s for s in json.loads(state.only("aws_s3_bucket_policy")["policy"])["Statement"]}


def test_bucket_policy_denies_non_tls(state):
    statement = statements(state)["DenyInsecureTransport"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Action"] == "s3:*" and statement["Principal"] == "*"


def test_bucket_policy_refuses_writes_without_kms_or_with_another_key(state):
    """S3 user guide, "Protecting data with server-side encryption using AWS KMS keys (SSE-KMS)",
    section "Requiring server-side encryption": a bucket policy denies ``s3:PutObject`` unless
    ``s3:x-amz-server-side-encryption`` is ``aws:kms`` and, with
    ``s3:x-amz-server-side-encryption-aws-kms-key-id``, unless it names the one key (as a key
    ARN). Here each also requires the header to be present (IAM "Condition operators": ``Null``
    ``false``; a negated operator alone holds for a missing key): a request without SSE headers
    (an UploadPart of a multipart upload never has them) gets the bucket's default, the same key.
    The key id may also be the alias the stage backends send (Terraform "Backend Type: s3":
    ``kms_key_id``)."""
    found = statements(state)
    without_kms, other_key = found["DenyWritesWithoutKms"], found["DenyWritesWithAnotherKey"]
    for statement in (without_kms, other_key):
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        assert statement["Action"] == "s3:PutObject" and statement["Resource"].endswith("/*")
    assert without_kms["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    }
    key_id = "s3:x-amz-server-side-encryption-aws-kms-key-id"
    assert other_key["Condition"]["Null"] == {key_id: "false"}
    allowed = other_key["Condition"]["StringNotEquals"][key_id]
    alias = load_state_backend().kms_key_alias
    assert re.fullmatch(r"\$\{aws_kms_key\.state-store_state-key_\w+\.arn\}", allowed[0])
    assert allowed[1] == alias and allowed[2].endswith(f":{alias}") and ":kms:eu-west-1:" in allowed[2]
    assert set(found) == {"DenyInsecureTransport", "DenyWritesWithoutKms", "DenyWritesWithAnotherKey"}


def test_state_key_has_the_alias_the_backends_name(state):
    (alias,) = state.json["resource"]["aws_kms_alias"].values()
    assert alias["name"] == load_state_backend().kms_key_alias
    assert alias["target_key_id"].startswith("${aws_kms_key.state-store_state-key_")


def test_old_state_versions_expire(state):
    (rule,) = state.only("aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled" and rule["filter"]
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] == load_state_backend().noncurrent_version_days


def test_lock_table_has_the_terraform_lock_key(state):
    table = state.only("aws_dynamodb_table")
    assert table["name"] == load_state_backend().lock_table
    assert table["hash_key"] == "LockID" and table["attribute"] == [{"name": "LockID", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"


def test_lock_table_is_recoverable_encrypted_and_protected(state):
    table = state.only("aws_dynamodb_table")
    assert table["point_in_time_recovery"]["enabled"] is True
    assert table["server_side_encryption"]["enabled"] is True
    assert table["deletion_protection_enabled"] is True


def test_bucket_table_and_key_refuse_destroy(state):
    for resource_type in ("aws_s3_bucket", "aws_dynamodb_table", "aws_kms_key"):
        assert state.only(resource_type)["lifecycle"]["prevent_destroy"] is True, resource_type


def test_state_key_rotates(state):
    assert state.only("aws_kms_key")["enable_key_rotation"] is True
