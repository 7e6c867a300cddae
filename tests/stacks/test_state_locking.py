"""State locking, for real: the dev stage's generated S3 backend against the emulator.

The bootstrap stack ``digital-booking-state`` is applied into a moto server over TLS (its
bucket, bucket policy, key and lock table exactly as it defines them; bucket-policy conditions
evaluated as on AWS, :mod:`tools.emulator_tls`). Then two terraform "writers" use the dev
stack's own ``s3`` backend block (bucket, key, ``kms_key_id``, DynamoDB table, ``use_lockfile``),
only re-pointed at the emulator and told to trust its CA:

- writer 1 runs ``terraform apply``; a ``terraform_data`` local-exec holds it mid-apply (state
  locked) until the test releases it;
- writer 2 tries to apply meanwhile and must be refused with a lock error;
- after the release both applies complete and the state in the bucket holds both writes.

``test_without_any_lock_a_second_writer_gets_through`` shows the check can fail: with the
DynamoDB table and the lockfile both switched off, the second writer is *not* refused.
The builtin ``terraform_data`` resource needs no provider download.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tools import emulator, terraform_cli

pytestmark = [pytest.mark.slow, pytest.mark.emulator]

STAGE_STACK = "digital-booking-dev"
LOCK_ERROR = "Error acquiring the state lock"


@pytest.fixture(scope="module")
def moto() -> emulator.MotoServer:
    with emulator.MotoServer(tls=True) as server:
        yield server


@pytest.fixture(scope="module")
def bootstrapped(moto: emulator.MotoServer, synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``digital-booking-state`` applied into the emulator as synthesized (bucket and its policy, table, key...)."""
    work = emulator.copy_stack(
        synth_dir / "stacks" / "digital-booking-state", tmp_path_factory.mktemp("bootstrap") / "digital-booking-state"
    )
    assert "aws_s3_bucket_policy" in json.loads((work / "cdk.tf.json").read_text())["resource"]
    emulator.write_override(work, moto.url, state_path=work / "terraform.tfstate", ca_bundle=moto.ca_bundle)
    emulator.init(work, moto.url)
    emulator.apply(work, moto.url)
    return work


def _boto(moto: emulator.MotoServer, service: str):  # noqa: ANN202
    return moto.client(service)


def _backend(synth_dir: Path, **changes: Any) -> dict[str, Any]:
    document = json.loads((synth_dir / "stacks" / STAGE_STACK / "cdk.tf.json").read_text())
    backend = dict(document["terraform"]["backend"]["s3"])
    for key, value in changes.items():
        if value is None:
            backend.pop(key, None)
        else:
            backend[key] = value
    return backend


def _writer(directory: Path, moto: emulator.MotoServer, backend: dict[str, Any], second: bool) -> Path:
    """A terraform configuration with the stage's backend at the emulator and builtin resources only."""
    directory.mkdir(parents=True, exist_ok=True)
    hold = (
        f"touch '{directory.parent}/holding'; i=0; "
        f"while [ ! -f '{directory.parent}/release' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"
    )
    # Only writer 1 holds (local-exec runs at create); writer 2 has the same `first`, plus `second`.
    resources: dict[str, Any] = {"first": {"input": "first writer"}}
    if second:
        resources["second"] = {"input": "second writer"}
    else:
        resources["first"]["provisioner"] = [{"local-exec": {"command": hold}}]
    document = {
        "terraform": {"backend": {"s3": emulator.s3_backend_override(backend, moto.url, moto.ca_bundle)}},
        "resource": {"terraform_data": resources},
    }
    (directory / "main.tf.json").write_text(json.dumps(document, indent=2))
    emulator.init(directory, moto.url)
    return directory


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"writer 1 ended before holding the lock:\n{process.stdout.read()}")
        assert time.monotonic() < deadline, "writer 1 never reached its hold point"
        time.sleep(0.1)


def _race(tmp_path: Path, moto: emulator.MotoServer, backend: dict[str, Any]) -> dict[str, Any]:
    """Writer 1 holds the state mid-apply, writer 2 tries; then writer 2 applies again.

    Returns both writers' results, the state once both are done (``between``) and the final one."""
    first = _writer(tmp_path / "first", moto, backend, second=False)
    second = _writer(tmp_path / "second", moto, backend, second=True)
    env = terraform_cli.terraform_env(emulator.terraform_env(moto.url))
    holder = subprocess.Popen(
        [terraform_cli.terraform_binary(), "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=first,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_for(tmp_path / "holding", holder)
        contender = emulator.terraform(
            second, ["apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s"], moto.url, check=False
        )
    finally:
        (tmp_path / "release").touch()
        holder_output, _ = holder.communicate(timeout=300)
    between = json.loads(emulator.terraform(second, ["state", "pull"], moto.url).stdout)
    after = emulator.terraform(second, ["apply", "-auto-approve", "-input=false", "-no-color"], moto.url, check=False)
    state = json.loads(emulator.terraform(second, ["state", "pull"], moto.url).stdout)
    return {
        "holder": (holder.returncode, holder_output),
        "contender": contender,
        "after": after,
        "between": between,
        "state": state,
    }


def _resources(state: dict[str, Any]) -> set[str]:
    return {f"{r['type']}.{r['name']}" for r in state.get("resources", [])}


def test_stage_backend_uses_both_locks(synth_dir: Path) -> None:
    """What the locking tests exercise is the generated backend: DynamoDB table and lockfile."""
    backend = _backend(synth_dir)
    assert backend["dynamodb_table"] and backend["use_lockfile"] is True


def test_bootstrap_creates_the_bucket_and_table_the_backend_names(bootstrapped: Path, moto, synth_dir) -> None:
    backend = _backend(synth_dir)
    assert backend["bucket"] in {b["Name"] for b in _boto(moto, "s3").list_buckets()["Buckets"]}
    table = _boto(moto, "dynamodb").describe_table(TableName=backend["dynamodb_table"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    versioning = _boto(moto, "s3").get_bucket_versioning(Bucket=backend["bucket"])
    assert versioning["Status"] == "Enabled"


@pytest.mark.parametrize("mode", ["generated", "dynamodb_only", "lockfile_only"])
def test_second_writer_is_refused_while_the_first_holds_the_lock(bootstrapped, moto, synth_dir, tmp_path, mode) -> None:
    changes = {"generated": {}, "dynamodb_only": {"use_lockfile": None}, "lockfile_only": {"dynamodb_table": None}}[
        mode
    ]
    backend = _backend(synth_dir, key=f"locking/{mode}/terraform.tfstate", **changes)
    result = _race(tmp_path, moto, backend)

    holder_code, holder_output = result["holder"]
    assert holder_code == 0, holder_output
    contender = result["contender"]
    assert contender.returncode != 0 and LOCK_ERROR in contender.stdout + contender.stderr, (
        f"second writer was not refused:\n{contender.stdout[-3000:]}\n{contender.stderr[-3000:]}"
    )
    assert result["after"].returncode == 0, result["after"].stdout + result["after"].stderr
    # Writer 1's state is intact; writer 2's retry adds to it: both writes are in the one state
    # object in the bucket, and the lock is gone.
    assert _resources(result["between"]) == {"terraform_data.first"}
    assert _resources(result["state"]) == {"terraform_data.first", "terraform_data.second"}
    objects = _boto(moto, "s3").list_objects_v2(Bucket=backend["bucket"], Prefix=f"locking/{mode}/")
    keys = {o["Key"] for o in objects.get("Contents", [])}
    assert backend["key"] in keys and f"{backend['key']}.tflock" not in keys


def test_without_any_lock_a_second_writer_gets_through(bootstrapped, moto, synth_dir, tmp_path) -> None:
    """Locking broken on purpose (no table, no lockfile): the second writer is not refused, so the
    refusal check above fails (two applies then write one state object concurrently)."""
    backend = _backend(synth_dir, key="locking/none/terraform.tfstate", dynamodb_table=None, use_lockfile=None)
    result = _race(tmp_path, moto, backend)
    contender = result["contender"]
    assert contender.returncode == 0 and LOCK_ERROR not in contender.stdout + contender.stderr
