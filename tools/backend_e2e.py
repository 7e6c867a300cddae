"""``make backend-e2e``: the real S3 backend, end to end, against the emulator over TLS.

    python -m tools.backend_e2e [--keep-dir DIR]

1. starts moto over HTTPS with a CA made for the run, S3 bucket policies evaluated on the
   transport and the SSE headers (:mod:`tools.emulator_tls`);
2. deploys the bootstrap stack ``digital-booking-state`` as synthesized, its bucket policy
   included (only ``prevent_destroy``, the table's deletion protection and the bucket's
   ``force_destroy`` are relaxed, in this run's copy, so step 6 can remove it);
3. shows the bucket policy at work: a write asking for AES256 and one under another key are
   refused;
4. initializes the dev stage on its own S3 backend block (bucket, key, ``kms_key_id``, lock
   table, ``use_lockfile``: as synthesized, only sent to the emulator and told to trust its CA)
   and applies a few of its resources (the VPC, the alarm topic and its key); shows the state
   object's encryption (SSE-KMS under the bootstrap's state key);
5. applies again while holding the state lock (a ``terraform_data`` whose local-exec waits):
   shows the ``.tflock`` object and the DynamoDB lock item both present, and a second writer
   refused with "Error acquiring the state lock"; then releases it;
6. destroys the stage's resources and the bootstrap, and checks nothing is left.

Every step is printed with its timing; exit 0 when every check held, 1 otherwise (the failed
check is named; no traceback). The emulator and the work directory go on every exit.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools import emulator, sandbox, terraform_cli

STAGE = "dev"
BOOTSTRAP = "digital-booking-state"
LOCK_ERROR = "Error acquiring the state lock"
#: The few stage resources applied on the real backend: these types and what they refer to.
STAGE_TYPES = ("aws_vpc", "aws_sns_topic")


class CheckFailed(AssertionError):
    """A property of the backend did not hold; the message says which."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def keep_only(document: dict[str, Any], types: tuple[str, ...]) -> dict[str, Any]:
    """The stack with only the resources of ``types``, what they refer to, and the outputs left whole."""
    blocks = sandbox._blocks(document)
    wanted = {a for a in blocks if a.split(".")[0] in types}
    queue = list(wanted)
    while queue:
        for reference in sandbox.references(blocks[queue.pop()]):
            if reference in blocks and reference not in wanted:
                wanted.add(reference)
                queue.append(reference)
    outputs = {a for a in blocks if a.startswith("output.") and sandbox.references(blocks[a]) <= wanted}
    return sandbox.prune(document, sandbox.Exclusion({a: "not needed" for a in blocks if a not in wanted | outputs}))


class Run:
    """One end-to-end run: the emulator, the work directories, the printed log."""

    def __init__(self, moto: emulator.MotoServer, base: Path, log: Callable[[str], None]) -> None:
        self.moto, self.base, self.log = moto, base, log
        self.timings: dict[str, float] = {}
        self.backend: dict[str, Any] = {}  #: the dev stage's s3 backend block, as synthesized

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.log(f"==> {name}")
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = round(time.monotonic() - started, 1)

    def terraform(self, work: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return emulator.terraform(work, list(args), self.moto.url, check=check)

    # -- the bootstrap -----------------------------------------------------------------------
    def deploy_bootstrap(self, synth_dir: Path) -> dict[str, Any]:
        work = emulator.copy_stack(synth_dir / "stacks" / BOOTSTRAP, self.base / BOOTSTRAP)
        document, relaxed = sandbox.relax_protections(json.loads((work / "cdk.tf.json").read_text()))
        (work / "cdk.tf.json").write_text(json.dumps(document, indent=2))
        for change in relaxed:
            self.log(f"    relaxed for the teardown (this run's copy only): {change}")
        policies = document["resource"]["aws_s3_bucket_policy"]
        check(len(policies) == 1, "the bootstrap has one bucket policy, deployed as synthesized")
        emulator.write_override(
            work, self.moto.url, state_path=work / "terraform.tfstate", ca_bundle=self.moto.ca_bundle
        )
        with self.step(f"bootstrap {BOOTSTRAP}: terraform init + apply"):
            emulator.init(work, self.moto.url)
            emulator.apply(work, self.moto.url)
        outputs = emulator.outputs(work, self.moto.url)
        policy = json.loads(self.moto.client("s3").get_bucket_policy(Bucket=outputs["state_bucket"])["Policy"])
        self.log(f"    bucket {outputs['state_bucket']}, table {outputs['lock_table']}")
        self.log(f"    state key {outputs['state_kms_key_arn']} ({outputs['state_kms_key_alias']})")
        self.log(f"    bucket policy: {', '.join(s['Sid'] for s in policy['Statement'])}")
        return {"work": work, **outputs}

    def show_policy_refusals(self, bucket: str) -> None:
        with self.step("bucket policy: writes with other encryption are refused"):
            s3 = self.moto.client("s3")
            other_key = self.moto.client("kms").create_key(Description="not the state key")["KeyMetadata"]["Arn"]
            attempts: dict[str, dict[str, str]] = {
                "AES256": {"ServerSideEncryption": "AES256"},
                "another KMS key": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": other_key},
            }
            for label, extra in attempts.items():
                status = _status(s3.put_object, Bucket=bucket, Key="probe.tfstate", Body=b"{}", **extra)
                self.log(f"    PutObject with {label}: HTTP {status}")
                check(status == 403, f"a PutObject with {label} must be refused (got HTTP {status})")

    # -- the stage on its real backend -------------------------------------------------------
    def stage_dir(self, synth_dir: Path, name: str, hold: Path | None = None) -> Path:
        """A terraform directory with a few dev resources and dev's own S3 backend at the emulator."""
        document = json.loads((synth_dir / "stacks" / f"digital-booking-{STAGE}" / "cdk.tf.json").read_text())
        backend = document["terraform"]["backend"]["s3"]
        reduced = keep_only(document, STAGE_TYPES)
        if hold is not None:  # writer 1: its local-exec keeps the lock until the release file appears
            wait = (
                f"touch '{hold}/holding'; i=0; "
                f"while [ ! -f '{hold}/release' ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i+1)); done"
            )
            reduced.setdefault("resource", {})["terraform_data"] = {
                "hold": {"triggers_replace": [name], "provisioner": [{"local-exec": {"command": wait}}]}
            }
        work = self.base / name
        work.mkdir(parents=True)
        (work / "cdk.tf.json").write_text(json.dumps(reduced, indent=2))
        emulator.write_override(work, self.moto.url, s3_backend=backend, ca_bundle=self.moto.ca_bundle)
        self.backend = backend
        return work

    def head(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.moto.client("s3").head_object(Bucket=bucket, Key=key)
        except Exception:  # noqa: BLE001 - a 404 is an answer here
            return None
        return found

    def stage_on_its_backend(self, synth_dir: Path, bootstrap: dict[str, Any]) -> Path:
        work = self.stage_dir(synth_dir, "stage")
        backend = self.backend
        check(backend.get("kms_key_id") == bootstrap["state_kms_key_alias"], "the backend names the state key")
        with self.step(f"stage {STAGE}: terraform init on its S3 backend + apply of {', '.join(STAGE_TYPES)}"):
            emulator.init(work, self.moto.url)
            emulator.apply(work, self.moto.url)
        addresses = emulator.state_addresses(work, self.moto.url)
        self.log(f"    in state: {', '.join(a for a in addresses if not a.startswith('data.'))}")
        head = self.head(backend["bucket"], backend["key"])
        check(head is not None, f"the state object s3://{backend['bucket']}/{backend['key']} exists")
        assert head is not None
        self.log(
            f"    s3://{backend['bucket']}/{backend['key']}: ServerSideEncryption={head.get('ServerSideEncryption')}, "
            f"SSEKMSKeyId={head.get('SSEKMSKeyId')}"
        )
        check(head.get("ServerSideEncryption") == "aws:kms", "the state object is encrypted with SSE-KMS")
        check(head.get("SSEKMSKeyId") == bootstrap["state_kms_key_arn"], "the state object is under the state key")
        return work

    def locks_in_use(self, synth_dir: Path) -> None:
        backend = self.backend
        holder_dir = self.stage_dir(synth_dir, "writer-1", hold=self.base)
        contender_dir = self.stage_dir(synth_dir, "writer-2")
        with self.step("locks: writer 1 applies and holds the lock; writer 2 is refused"):
            emulator.init(holder_dir, self.moto.url)
            emulator.init(contender_dir, self.moto.url)
            env = terraform_cli.terraform_env(emulator.terraform_env(self.moto.url))
            holder = subprocess.Popen(
                [terraform_cli.terraform_binary(), "apply", "-auto-approve", "-input=false", "-no-color"],
                cwd=holder_dir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            try:
                deadline = time.monotonic() + 300
                while not (self.base / "holding").exists():
                    check(holder.poll() is None, "writer 1 ended before it held the lock")
                    check(time.monotonic() < deadline, "writer 1 never reached its hold point")
                    time.sleep(0.1)
                lock_object = self.head(backend["bucket"], f"{backend['key']}.tflock")
                check(lock_object is not None, "the S3 lock object <key>.tflock exists while writer 1 holds it")
                assert lock_object is not None
                self.log(
                    f"    s3://{backend['bucket']}/{backend['key']}.tflock: "
                    f"ServerSideEncryption={lock_object.get('ServerSideEncryption')}, "
                    f"SSEKMSKeyId={lock_object.get('SSEKMSKeyId')}"
                )
                check(lock_object.get("ServerSideEncryption") == "aws:kms", "the lock object is SSE-KMS too")
                lock_id = f"{backend['bucket']}/{backend['key']}"
                item = self.moto.client("dynamodb").get_item(
                    TableName=backend["dynamodb_table"], Key={"LockID": {"S": lock_id}}
                )
                check("Item" in item, f"the DynamoDB lock item {lock_id} exists while writer 1 holds it")
                info = json.loads(item["Item"]["Info"]["S"])
                self.log(f"    {backend['dynamodb_table']}: LockID={lock_id} ({info['Operation']}, id {info['ID']})")
                refused = self.terraform(
                    contender_dir, "plan", "-input=false", "-no-color", "-lock-timeout=0s", check=False
                )
                output = refused.stdout + refused.stderr
                check(refused.returncode != 0 and LOCK_ERROR in output, "writer 2 must be refused while writer 1 holds")
                reason = next((line.strip() for line in output.splitlines() if "StatusCode" in line), "")
                self.log(f"    writer 2: {LOCK_ERROR} ({reason[:140]})")
            finally:
                (self.base / "release").touch()
                holder_output, _ = holder.communicate(timeout=600)
            check(holder.returncode == 0, f"writer 1's apply must finish: {holder_output[-2000:]}")
        check(self.head(backend["bucket"], f"{backend['key']}.tflock") is None, "the lock object is gone after")
        check(
            "Item"
            not in self.moto.client("dynamodb").get_item(
                TableName=backend["dynamodb_table"], Key={"LockID": {"S": f"{backend['bucket']}/{backend['key']}"}}
            ),
            "the DynamoDB lock item is gone after",
        )
        self.log("    released: writer 1 finished; the .tflock object and the lock item are gone")

    def tear_down(self, bootstrap: dict[str, Any] | None) -> None:
        work = self.base / "stage"
        if (work / ".terraform").exists():  # destroys whatever the stage's state holds (writer 1's too)
            with self.step(f"stage {STAGE}: terraform destroy (state on the S3 backend)"):
                self.terraform(work, "destroy", "-auto-approve", "-input=false", "-no-color")
            left = [a for a in emulator.state_addresses(work, self.moto.url) if not a.startswith("data.")]
            self.log(f"    {len(left)} resources left in the stage's state")
            check(not left, f"nothing may be left in the stage's state: {left}")
        if bootstrap is not None:
            with self.step(f"bootstrap {BOOTSTRAP}: terraform destroy"):
                self.empty_while_versioned(bootstrap["state_bucket"])
                self.terraform(bootstrap["work"], "destroy", "-auto-approve", "-input=false", "-no-color")
            left = [a for a in emulator.state_addresses(bootstrap["work"], self.moto.url) if not a.startswith("data.")]
            buckets = [b["Name"] for b in self.moto.client("s3").list_buckets()["Buckets"]]
            tables = self.moto.client("dynamodb").list_tables()["TableNames"]
            self.log(f"    {len(left)} resources left in the bootstrap's state; buckets {buckets}, tables {tables}")
            check(not left and not buckets and not tables, "the bootstrap must be gone")

    def empty_while_versioned(self, bucket: str) -> None:
        """Delete every object version and delete marker while the bucket is still versioned.

        moto 5.2.5 answers HTTP 500 to the provider's force_destroy otherwise: the destroy
        suspends versioning first, and moto then fails to delete a key that has a delete marker
        (``FakeDeleteMarker`` has no ``dispose``); the state's ``.tflock`` objects leave such markers."""
        s3 = self.moto.client("s3")
        listed = s3.list_object_versions(Bucket=bucket)
        versions = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
        ]
        if versions:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": versions})
            self.log(f"    emulator quirk: emptied {len(versions)} object versions while versioned (see the docstring)")


def _status(call: Callable[..., Any], **arguments: Any) -> int:
    try:
        call(**arguments)
    except Exception as error:  # noqa: BLE001 - botocore's ClientError carries the status
        return int(getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return 200


def run(base: Path, log: Callable[[str], None] = print) -> tuple[bool, dict[str, float]]:
    """The whole run in ``base``; (every check held, timings)."""
    log("==> synth (bootstrap + dev)")
    synth_dir = sandbox.synth_stage(STAGE, base / "cdktf.out").parent.parent
    failures: list[str] = []
    with emulator.MotoServer(tls=True) as moto:
        log(f"==> emulator over TLS: {moto.url} (CA {moto.ca_bundle}, log {moto.log_path})")
        e2e = Run(moto, base, log)
        bootstrap = None
        try:
            bootstrap = e2e.deploy_bootstrap(synth_dir)
            e2e.show_policy_refusals(bootstrap["state_bucket"])
            e2e.stage_on_its_backend(synth_dir, bootstrap)
            e2e.locks_in_use(synth_dir)
        except KeyboardInterrupt:
            failures.append("interrupted")
        except Exception as error:  # noqa: BLE001 - reported with the others; the teardown must still run
            failures.append(terraform_cli.error_text(f"{type(error).__name__}: {error}", most=40))
        finally:
            try:
                e2e.tear_down(bootstrap)
            except Exception as error:  # noqa: BLE001
                failures.append(f"teardown: {terraform_cli.error_text(f'{type(error).__name__}: {error}', most=40)}")
        for failure in failures:
            log(f"    FAILED: {failure}")
    return not failures, e2e.timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the real S3 backend end to end against the emulator over TLS")
    parser.add_argument("--keep-dir", type=Path, help="work here instead of a temp dir (left for inspection)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: _interrupt())
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="backend-e2e-")
    try:
        base = args.keep_dir or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        ok, timings = run(base, log=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print("==> backend end to end interrupted (Ctrl-C) before the emulator was up", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - a message, not a traceback
        print(f"==> backend end to end FAILED before the emulator was up: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    steps = "; ".join(f"{name} {seconds}s" for name, seconds in timings.items())
    verdict = "OK" if ok else "FAILED"
    print(f"==> backend end to end {verdict} in {time.monotonic() - started:.0f}s ({steps})", flush=True)
    return 0 if ok else 1


def _interrupt() -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
