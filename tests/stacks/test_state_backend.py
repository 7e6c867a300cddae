"""Every stage stack keeps its state in the bootstrap's bucket, locked, one key per stage."""

from __future__ import annotations

from environments import load_stage, load_state_backend
from stacks.stage_stack import state_key


def test_backend_points_at_the_bootstrap_bucket_and_table(stage_stack):
    settings = load_state_backend()
    s3 = stage_stack.backend()["s3"]
    assert s3["bucket"] == settings.bucket and s3["region"] == settings.region
    assert s3["dynamodb_table"] == settings.lock_table


def test_each_stage_has_its_own_state_key(stacks):
    keys = {name: s.backend()["s3"]["key"] for name, s in stacks.items() if name != "digital-booking-state"}
    assert len(set(keys.values())) == len(keys)
    assert keys["digital-booking-prod"] == state_key("prod") == "stages/prod/terraform.tfstate"


def test_state_is_encrypted_with_the_state_key(stage_stack):
    """Terraform "Backend Type: s3": ``encrypt`` turns on server-side encryption of the state and
    lock files, and ``kms_key_id`` names the KMS key; without it ``encrypt`` asks S3 for AES256
    (SSE-S3), which ignores the bucket's KMS default and which the state bucket's policy refuses.
    The alias is what the bootstrap creates for the state key."""
    s3 = stage_stack.backend()["s3"]
    assert s3["encrypt"] is True
    assert s3["kms_key_id"] == load_state_backend().kms_key_alias


def test_use_lockfile_follows_the_stage_switch(stage_stack):
    expected = load_stage(stage_stack.stage).state.use_lockfile
    assert stage_stack.backend()["s3"].get("use_lockfile", False) is expected


def test_switching_use_lockfile_off_removes_it(tmp_path):
    import dataclasses
    import json

    from cdktf import App

    from stacks.stage_stack import StageStack
    from tests.tf_json import SynthesizedStack

    config = load_stage("dev")
    config = dataclasses.replace(config, state=dataclasses.replace(config.state, use_lockfile=False))
    app = App(outdir=str(tmp_path))
    StageStack(app, config, load_state_backend())
    app.synth()
    stack = SynthesizedStack(
        "digital-booking-dev", json.loads((tmp_path / "stacks/digital-booking-dev/cdk.tf.json").read_text())
    )
    assert "use_lockfile" not in stack.backend()["s3"]


def test_providers_set_the_default_tags(stage_stack):
    """The stage's own region, CloudFront's (us-east-1, alias ``edge``) and, where the stage has one, the
    disaster-recovery region (alias ``dr``), all tagging alike."""
    providers = {p.get("alias", ""): p for p in stage_stack.json["provider"]["aws"]}
    stage = load_stage(stage_stack.stage).stage
    assert set(providers) == {"", "edge"} | ({"dr"} if stage.dr_region else set())
    assert providers[""]["region"] == stage.region
    assert providers["edge"]["region"] == "us-east-1"
    if stage.dr_region:
        assert providers["dr"]["region"] == stage.dr_region != stage.region
    for provider in providers.values():
        tags = provider["default_tags"][0]["tags"]
        assert tags["stage"] == stage_stack.stage and tags["project"] == "digital-booking"
        assert {"owner", "cost-centre", "managed-by"} <= tags.keys()
