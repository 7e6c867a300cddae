"""``make sandbox``: the whole dev platform up and down on a laptop, no AWS account, no network.

    python -m tools.sandbox [--stage dev] [--keep-dir DIR]

The stage's account baseline (``digital-booking-security-<account>-<region>``) goes first, as in the
bootstrap order, then the stage itself; each runs the steps below in its own emulator.

1. synthesizes the stage, copies its directory and leaves out the resources the emulator cannot
   emulate (:data:`UNSUPPORTED`, and for the baseline :data:`SECURITY_UNSUPPORTED`) together with
   everything that references them (the closure over ``${...}`` references and ``depends_on``),
   printing each with the reason;
2. starts a moto server on 127.0.0.1 (free port), points the AWS provider at it with an override
   file (fake credentials, local state) and runs the real terraform + AWS provider: init, apply;
3. prints the outputs and checks that every non-excluded resource is in the state;
4. runs a second ``terraform plan`` and reports the drift (what the emulator reads back
   differently from what was applied);
5. destroys everything, checks the state is empty and stops the emulator (always, even on error).

Exit 0 when apply and destroy succeeded (drift is reported, not fatal: emulator read-back
differences are not platform bugs, the report says what they are).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import emulator

#: Resource types the emulator (moto 5.2.5) cannot create, with the reason. Keep it short: every
#: entry removes a piece of the platform from the sandbox (tests/tools/test_sandbox.py checks each
#: still matters and that nothing else is left out).
UNSUPPORTED: dict[str, str] = {
    "aws_elasticache_replication_group": "moto 5.2.5 fails on ElastiCache replication groups "
    "(the provider's create/modify/read cycle is not emulated)",
    "aws_elasticache_parameter_group": "moto 5.2.5 does not implement CreateCacheParameterGroup (HTTP 500)",
    "aws_elasticache_user_group": "moto 5.2.5 does not implement CreateUserGroup (HTTP 500)",
    "aws_elasticache_subnet_group": "moto 5.2.5 does not implement DeleteCacheSubnetGroup (HTTP 500): "
    "the sandbox could create it but never destroy it",
    "aws_db_option_group": "moto 5.2.5 knows option groups only up to MySQL 8.0 (CreateOptionGroup: "
    "'Cannot find major version 8.4 for mysql'); the instances run without the audit plugin",
    "aws_s3_bucket_logging": "moto 5.2.5 answers PutBucketLogging with HTTP 500 when the target bucket's "
    'policy has a statement with "Principal": "*" (our deny-non-TLS statement)',
    "aws_backup_selection": "moto 5.2.5 does not implement CreateBackupSelection (NotImplementedError): the "
    "plans and vault are created, nothing is assigned to them",
}

#: Optional attributes that only name another resource: when that one is left out, the attribute is
#: dropped and the resource stays in the sandbox (the database without its audit option group).
DETACHABLE: set[tuple[str, str]] = {("aws_db_instance", "option_group_name")}

#: What the account baseline uses that moto 5.2.5 cannot create, with the reason (the account-level
#: and security services it lacks; tests/tools/test_sandbox.py checks each entry is still needed).
SECURITY_UNSUPPORTED: dict[str, str] = {
    "aws_securityhub_account": "moto 5.2.5 does not implement UpdateSecurityHubConfiguration, which the provider "
    "always calls after EnableSecurityHub (HTTP 500)",
    "aws_securityhub_standards_subscription": "moto 5.2.5 does not implement BatchEnableStandards (HTTP 404)",
    "aws_accessanalyzer_analyzer": "moto 5.2.5 has no IAM Access Analyzer at all (HTTP 404)",
    "aws_guardduty_detector_feature": "moto 5.2.5's UpdateDetector replaces the detector's whole feature list, so "
    "of several feature resources only the last survives and reading the others fails (empty result)",
    "aws_ebs_default_kms_key": "moto 5.2.5 does not implement GetEbsDefaultKmsKeyId / ResetEbsDefaultKmsKeyId "
    "(the provider reads the key back after setting it)",
    "aws_ebs_snapshot_block_public_access": "moto 5.2.5 does not implement EnableSnapshotBlockPublicAccess",
    "aws_s3_account_public_access_block": "the provider sends S3 Control calls to <account id>.<endpoint host>, "
    "a name that cannot resolve for the emulator on 127.0.0.1 (moto itself implements the API)",
}

_ADDRESS = re.compile(r"(?<![\w.-])(data\.)?([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z][A-Za-z0-9_-]*)")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def references(value: Any) -> set[str]:
    """Addresses (``aws_x.name`` / ``data.aws_x.name``) a config value refers to, incl. ``depends_on``."""
    found: set[str] = set()
    for text in _strings(value):
        if "${" in text:  # the whole string: expressions nest (`${jsonencode({a = x.y.z})}`)
            for data, rtype, name in _ADDRESS.findall(text):
                found.add(f"{data}{rtype}.{name}")
    if isinstance(value, dict):
        for dependency in value.get("depends_on", []) or []:
            found.add(dependency.removeprefix("${").removesuffix("}"))
    return found


def _blocks(document: dict[str, Any]) -> dict[str, Any]:
    """Every addressable block: ``aws_x.n`` (resources), ``data.aws_x.n``, ``output.n``."""
    blocks: dict[str, Any] = {}
    for rtype, items in document.get("resource", {}).items():
        blocks.update({f"{rtype}.{name}": body for name, body in items.items()})
    for rtype, items in document.get("data", {}).items():
        blocks.update({f"data.{rtype}.{name}": body for name, body in items.items()})
    blocks.update({f"output.{name}": body for name, body in document.get("output", {}).items()})
    return blocks


@dataclass
class Exclusion:
    """What was left out of the sandbox, and why (``address -> reason``); and the optional attributes
    detached from resources that stay (``address -> [attribute]``) because they named a left-out one."""

    reasons: dict[str, str] = field(default_factory=dict)
    detached: dict[str, list[str]] = field(default_factory=dict)

    @property
    def addresses(self) -> list[str]:
        return sorted(self.reasons)


def exclusion_closure(document: dict[str, Any], unsupported: dict[str, str] = UNSUPPORTED) -> Exclusion:
    """The unsupported resources plus everything that (transitively) refers to them, except through an
    optional attribute of :data:`DETACHABLE`: that attribute is detached and the resource stays."""
    blocks = _blocks(document)
    excluded = Exclusion(
        {
            address: reason
            for address in blocks
            for rtype, reason in unsupported.items()
            if address.startswith(f"{rtype}.")
        }
    )
    changed = True
    while changed:
        changed = False
        for address, body in blocks.items():
            if address in excluded.reasons:
                continue
            rtype = address.split(".")[0]
            kept = {k: v for k, v in body.items() if (rtype, k) not in DETACHABLE}
            culprits = sorted(references(kept) & set(excluded.reasons))
            if culprits:
                excluded.reasons[address] = f"refers to {culprits[0]}, which is left out"
                excluded.detached.pop(address, None)
                changed = True
                continue
            detached = sorted(
                k for k in body if (rtype, k) in DETACHABLE and references(body[k]) & set(excluded.reasons)
            )
            if detached:
                excluded.detached[address] = detached
    return excluded


def prune(document: dict[str, Any], excluded: Exclusion) -> dict[str, Any]:
    """A copy of the stack document without the excluded blocks (empty type maps dropped)."""
    pruned = copy.deepcopy(document)
    for address, attributes in excluded.detached.items():
        rtype, name = address.split(".")
        for attribute in attributes:
            pruned["resource"][rtype][name].pop(attribute, None)
    for address in excluded.addresses:
        parts = address.split(".")
        if parts[0] == "output":
            pruned.get("output", {}).pop(parts[1], None)
        elif parts[0] == "data":
            pruned.get("data", {}).get(parts[1], {}).pop(parts[2], None)
        else:
            pruned.get("resource", {}).get(parts[0], {}).pop(parts[1], None)
    for section in ("resource", "data"):
        if section in pruned:
            pruned[section] = {t: items for t, items in pruned[section].items() if items}
            if not pruned[section]:
                del pruned[section]
    if "output" in pruned and not pruned["output"]:
        del pruned["output"]
    return pruned


def managed_addresses(document: dict[str, Any]) -> list[str]:
    return sorted(f"{t}.{n}" for t, items in document.get("resource", {}).items() for n in items)


@dataclass
class SandboxReport:
    stage: str
    excluded: Exclusion
    expected: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    drift: dict[str, list[str]] = field(default_factory=dict)  #: address -> actions, changed attributes
    left_after_destroy: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return sorted(set(self.expected) - set(self.created))

    @property
    def ok(self) -> bool:
        return not self.missing and not self.left_after_destroy and bool(self.expected)


def _changed_attributes(change: dict[str, Any]) -> list[str]:
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    return sorted(
        k
        for k in set(before) | set(after)
        if before.get(k) != after.get(k) and not (unknown.get(k) is True and k not in after)
    )


def _drift(plan_json: dict[str, Any]) -> dict[str, list[str]]:
    """``address -> [actions..., changed attributes...]`` for every resource the re-plan would touch."""
    return {
        change["address"]: change["change"]["actions"] + _changed_attributes(change["change"])
        for change in plan_json.get("resource_changes", [])
        if change["change"]["actions"] not in (["no-op"], ["read"])
    }


#: A delete the emulator answered with "<thing>NotFound", and the id it was for. Terraform prints
#: one "Error: deleting <what> (<id>): ... api error <Code>: ..." per failed delete.
_GONE_ON_DELETE = re.compile(
    r"Error: deleting [^(\n]+ \(([^()\s]+)\): (?:(?!Error: ).)*?api error [\w.]*NotFound\b", re.S
)


def resources_already_gone(destroy_output: str) -> set[str]:
    """Ids whose delete failed only because the emulator no longer had them."""
    return set(_GONE_ON_DELETE.findall(destroy_output))


def _destroy(work: Path, endpoint: str, log: Callable[[str], None]) -> None:
    """``terraform destroy``, working around one moto 5.2.5 quirk: a delete of something moto has
    already forgotten answers a NotFound error (seen on security group egress rules that reference
    another group, InvalidPermission.NotFound, and once on the target group, TargetGroupNotFound,
    when a delete call was retried). Such a resource is gone already, which is what destroy wants:
    it leaves the state and destroy reruns. Any other failure stops the sandbox."""
    for attempt in range(3):
        result = emulator.destroy(work, endpoint, check=False)
        if result.returncode == 0:
            return
        gone = resources_already_gone(result.stdout + result.stderr)
        if not gone or attempt == 2:
            raise RuntimeError(f"terraform destroy failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        state = json.loads(emulator.terraform(work, ["show", "-json"], endpoint).stdout)
        addresses = [
            r["address"]
            for r in state.get("values", {}).get("root_module", {}).get("resources", [])
            if r.get("values", {}).get("id") in gone
        ]
        log(
            f"    emulator quirk: moto already forgot {', '.join(sorted(gone))} ({', '.join(addresses)}): "
            f"dropping from state, destroying again"
        )
        if addresses:
            emulator.terraform(work, ["state", "rm", *addresses], endpoint)


def run_sandbox(
    stack_dir: Path,
    work_dir: Path,
    log: Callable[[str], None] = print,
    unsupported: dict[str, str] = UNSUPPORTED,
    exercise: Callable[[str, dict[str, Any]], None] | None = None,
) -> SandboxReport:
    """Deploy ``stack_dir`` (a synthesized stack) into a fresh emulator, re-plan, destroy. ``exercise``:
    run against the deployed stage before it is destroyed (the emulator's URL and the outputs), e.g. a
    restore."""
    stage = Path(stack_dir).name.removeprefix("digital-booking-")
    work = emulator.copy_stack(Path(stack_dir), Path(work_dir))
    document = json.loads((work / "cdk.tf.json").read_text())
    excluded = exclusion_closure(document, unsupported)
    pruned = prune(document, excluded)
    (work / "cdk.tf.json").write_text(json.dumps(pruned, indent=2))
    report = SandboxReport(stage, excluded, expected=managed_addresses(pruned))
    log(
        f"==> sandbox for stage '{stage}': {len(report.expected)} resources to create, "
        f"{len(excluded.addresses)} left out"
    )
    for address in excluded.addresses:
        log(f"    left out: {address}: {excluded.reasons[address]}")
    for address, attributes in sorted(excluded.detached.items()):
        log(f"    detached: {address}: {', '.join(attributes)} (it names a left-out resource)")

    def step(name: str, action: Callable[[], Any]) -> Any:
        log(f"==> {name}")
        started = time.monotonic()
        try:
            return action()
        finally:
            report.timings[name] = round(time.monotonic() - started, 1)

    with emulator.MotoServer() as moto:
        log(f"==> emulator: moto server at {moto.url} (log {moto.log_path})")
        emulator.write_override(work, moto.url, state_path=work / "terraform.tfstate")
        applied = False
        try:
            step("terraform init", lambda: emulator.init(work, moto.url))
            step("terraform apply", lambda: emulator.apply(work, moto.url))
            applied = True
            report.created = emulator.state_addresses(work, moto.url)
            report.created = [a for a in report.created if not a.startswith("data.")]
            log(f"    created {len(set(report.created) & set(report.expected))} of {len(report.expected)} resources")
            for address in report.missing:
                log(f"    NOT CREATED: {address}")
            report.outputs = emulator.outputs(work, moto.url)
            log("==> outputs")
            for name, value in sorted(report.outputs.items()):
                log(f"    {name} = {json.dumps(value)}")
            step("terraform plan (drift check)", lambda: emulator.plan(work, moto.url, ["-out=drift.tfplan"]))
            shown = emulator.terraform(work, ["show", "-json", "drift.tfplan"], moto.url)
            report.drift = _drift(json.loads(shown.stdout))
            if report.drift:
                log(
                    f"    drift: the re-plan would change {len(report.drift)} resource(s) "
                    f"(what the emulator reads back differs from what was applied):"
                )
                for address, detail in sorted(report.drift.items()):
                    actions = [a for a in detail if a in ("create", "update", "delete")]
                    attributes = [a for a in detail if a not in actions]
                    log(f"      {'/'.join(actions)}: {address}" + (f" ({', '.join(attributes)})" if attributes else ""))
            else:
                log("    drift: none, the re-plan is empty")
            if exercise is not None:
                step("exercise", lambda: exercise(moto.url, report.outputs))
        finally:
            if applied or (work / "terraform.tfstate").exists():
                step("terraform destroy", lambda: _destroy(work, moto.url, log))
                report.left_after_destroy = [
                    a for a in emulator.state_addresses(work, moto.url) if not a.startswith("data.")
                ]
                log(f"    destroyed; {len(report.left_after_destroy)} resources left in state")
        log("==> emulator stopped")
    return report


def synth_stage(stage: str, out_dir: Path) -> Path:
    """Synthesize one stage (and the bootstrap and account baseline stacks) into ``out_dir``; its stack directory."""
    import os

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from stacks.app import build_app  # jsii starts here, only when synthesizing

    build_app(outdir=str(out_dir), stages=[stage]).synth()
    return Path(out_dir) / "stacks" / f"digital-booking-{stage}"


def baseline_dir(stage: str, out_dir: Path) -> Path | None:
    """The synthesized security baseline of the stage's account and region, or None (no account named)."""
    from environments import load_stage
    from stacks.security_stack import security_stack_name

    config = load_stage(stage)
    if config.account is None:
        return None
    return Path(out_dir) / "stacks" / security_stack_name(config.account.name, config.stage.region)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="deploy a stage into a local AWS emulator and tear it down")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--keep-dir", type=Path, help="work here instead of a temp dir (left for inspection)")
    args = parser.parse_args(argv)
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the emulator is still stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    reports: list[SandboxReport] = []
    with tempfile.TemporaryDirectory(prefix="sandbox-") as tmp:
        base = args.keep_dir or Path(tmp)
        print(f"==> synth stage '{args.stage}'", flush=True)
        stack_dir = synth_stage(args.stage, base / "cdktf.out")
        baseline = baseline_dir(args.stage, base / "cdktf.out")
        # The bootstrap order: the account's baseline first, then the stage.
        if baseline is not None:
            reports.append(
                run_sandbox(
                    baseline,
                    base / "work-security",
                    log=lambda line: print(line, flush=True),
                    unsupported={**UNSUPPORTED, **SECURITY_UNSUPPORTED},
                )
            )
        reports.append(run_sandbox(stack_dir, base / "work", log=lambda line: print(line, flush=True)))
    for report in reports:
        timings = ", ".join(f"{k} {v}s" for k, v in report.timings.items())
        print(
            f"==> sandbox {report.stage} {'OK' if report.ok else 'FAILED'}: {len(report.created)} of "
            f"{len(report.expected)} resources created, {len(report.excluded.addresses)} left out, drift in "
            f"{len(report.drift)}, {len(report.left_after_destroy)} left after destroy ({timings})"
        )
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
