"""Security gate: checkov 3.3.30 over synthesized stacks, findings matched to the accepted list.

    python -m tools.checkov_gate [cdktf.out]     # scan every stack, print counts, exit 1 on new prod findings

checkov reads cdktf output only with ``--framework terraform_json``, and it silently reports
nothing (a parsing error, zero results, exit 0) on ``terraform.required_version``, ``import``
and ``moved`` blocks. So every stack is scanned as a *cleaned copy* without those, and callers
must check :attr:`StackScan.parsing_errors` is 0 and that checks ran (``passed + failed > 0``).

Accepted findings live in one reviewed file, ``security/checkov-accepted.yaml``: each entry
names the check, the resource (the construct-path name without cdktf's hash suffix, ``*``
wildcards allowed), optionally the stacks it applies to, and the reason.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
ACCEPTED_FILE = PROJECT_DIR / "security" / "checkov-accepted.yaml"
#: Stacks that must have no finding outside the accepted list (the others are reported only).
GATED_STACKS = ("digital-booking-prod", "digital-booking-state")
#: ... and every account's security baseline (one stack per account and region).
GATED_PREFIXES = ("digital-booking-security-",)
_HASH_SUFFIX = re.compile(r"_[0-9A-F]{8}$")
#: Top-level blocks / terraform settings checkov 3.3.30 cannot parse in JSON.
_UNPARSEABLE_TOP = ("import", "moved", "removed", "check")
_UNPARSEABLE_TERRAFORM = ("required_version",)


def checkov_binary() -> str:
    """checkov from this project's venv (Pipfile dev-packages), else PATH; an error if absent."""
    candidate = Path(sys.executable).parent / "checkov"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("checkov")
    if found is None:
        raise RuntimeError("checkov is not installed: run `make install` (it is in the Pipfile dev-packages)")
    return found


@dataclass(frozen=True)
class Finding:
    stack: str
    check_id: str
    resource: str  #: construct-path name without hash, e.g. ``load-balancer_ingress-80``
    resource_id: str  #: what checkov printed, e.g. ``aws_s3_bucket.load-balancer_access-log-bucket_AE47107F``
    check_name: str

    def __str__(self) -> str:
        return f"{self.stack}: {self.check_id} on {self.resource_id} ({self.check_name})"


@dataclass(frozen=True)
class Acceptance:
    check: str
    resource: str
    reason: str
    stacks: tuple[str, ...] = ()

    def covers(self, finding: Finding) -> bool:
        return (
            finding.check_id == self.check
            and fnmatch.fnmatchcase(finding.resource, self.resource)
            and (not self.stacks or finding.stack in self.stacks)
        )


@dataclass
class StackScan:
    stack: str
    passed: int = 0
    failed: int = 0
    parsing_errors: int = 0
    findings: list[Finding] = field(default_factory=list)


def resource_name(checkov_resource: str) -> str:
    """``resource.app-servers_log-group_0DD51AF5`` / ``aws_lb.x_1234ABCD`` -> ``app-servers_log-group``."""
    return _HASH_SUFFIX.sub("", checkov_resource.split(".")[-1])


def clean(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a ``cdk.tf.json`` without the blocks checkov 3.3.30 fails to parse."""
    cleaned = {k: v for k, v in document.items() if k not in _UNPARSEABLE_TOP}
    if isinstance(cleaned.get("terraform"), dict):
        cleaned["terraform"] = {k: v for k, v in cleaned["terraform"].items() if k not in _UNPARSEABLE_TERRAFORM}
    return cleaned


def load_accepted(path: Path = ACCEPTED_FILE) -> list[Acceptance]:
    """The reviewed list; every entry needs check, resource and a reason."""
    entries = yaml.safe_load(path.read_text()) or {}
    accepted = []
    for i, entry in enumerate(entries.get("accepted", [])):
        missing = [k for k in ("check", "resource", "reason") if not str(entry.get(k, "")).strip()]
        if missing:
            raise ValueError(f"{path}: entry {i + 1} lacks {', '.join(missing)}")
        accepted.append(
            Acceptance(
                check=entry["check"],
                resource=entry["resource"],
                reason=entry["reason"].strip(),
                stacks=tuple(entry.get("stacks", ())),
            )
        )
    return accepted


def scan(stack_dirs: Iterable[Path], work_dir: Path, cleaned: bool = True) -> dict[str, StackScan]:
    """Run checkov once over cleaned copies of the given stack directories; results per stack.

    ``cleaned=False`` scans them as they are (only to show why cleaning is needed)."""
    work_dir = Path(work_dir)
    if work_dir.exists():
        shutil.rmtree(work_dir)
    names = []
    for stack_dir in stack_dirs:
        stack_dir = Path(stack_dir)
        (work_dir / stack_dir.name).mkdir(parents=True)
        document = json.loads((stack_dir / "cdk.tf.json").read_text())
        (work_dir / stack_dir.name / "cdk.tf.json").write_text(
            json.dumps(clean(document) if cleaned else document, indent=2)
        )
        names.append(stack_dir.name)
    result = subprocess.run(
        [
            checkov_binary(),
            "-d",
            str(work_dir),
            "--framework",
            "terraform_json",
            "--skip-download",
            "--output",
            "json",
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(work_dir),
            "LOG_LEVEL": "WARNING",
            "BC_SKIP_MAPPING": "TRUE",
            "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        },
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise RuntimeError(
            f"checkov printed no JSON (exit {result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        ) from error
    reports = report if isinstance(report, list) else [report]
    scans = {name: StackScan(name) for name in names}

    def stack_of(file_path: str) -> str:
        return Path(file_path).parts[1] if file_path.startswith("/") else Path(file_path).parts[0]

    for rep in reports:
        results = rep.get("results", {})
        for check in results.get("passed_checks", []):
            scans[stack_of(check["file_path"])].passed += 1
        for check in results.get("failed_checks", []):
            stack = stack_of(check["file_path"])
            scans[stack].failed += 1
            scans[stack].findings.append(
                Finding(
                    stack,
                    check["check_id"],
                    resource_name(check["resource"]),
                    check["resource"],
                    check.get("check_name", ""),
                )
            )
        for path in results.get("parsing_errors", []) or rep.get("parsing_errors", []) or []:
            scans[stack_of(str(path).removeprefix(str(work_dir)))].parsing_errors += 1
        if not isinstance(rep.get("results"), dict):  # checkov's "nothing found" shape: {"summary": ...}
            for s in scans.values():
                s.parsing_errors += int(rep.get("summary", {}).get("parsing_errors", 0))
    return scans


def gated(stack: str) -> bool:
    """Whether findings outside the accepted list fail the gate for this stack."""
    return stack in GATED_STACKS or stack.startswith(GATED_PREFIXES)


def unaccepted(scan_result: StackScan, accepted: list[Acceptance]) -> list[Finding]:
    return [f for f in scan_result.findings if not any(a.covers(f) for a in accepted)]


def unused(scans: dict[str, StackScan], accepted: list[Acceptance]) -> list[Acceptance]:
    """Accepted entries no finding in the gated stacks needs any more (the list must stay short)."""
    findings = [f for name in scans if gated(name) for f in scans[name].findings]
    return [a for a in accepted if not any(a.covers(f) for f in findings)]


def summary_lines(scans: dict[str, StackScan], accepted: list[Acceptance]) -> list[str]:
    lines = []
    for name, s in sorted(scans.items()):
        new = unaccepted(s, accepted)
        gate = "gated" if gated(name) else "report only"
        lines.append(
            f"checkov {name}: passed {s.passed}, failed {s.failed} "
            f"({s.failed - len(new)} accepted, {len(new)} not accepted; {gate}), "
            f"parsing errors {s.parsing_errors}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:] or [str(PROJECT_DIR / "cdktf.out")])[0])
    dirs = sorted(d for d in (out / "stacks").iterdir() if (d / "cdk.tf.json").is_file())
    scans = scan(dirs, PROJECT_DIR / ".tools" / "checkov-scan")
    accepted = load_accepted()
    print("\n".join(summary_lines(scans, accepted)))
    bad = [f for name in scans if gated(name) for f in unaccepted(scans[name], accepted)]
    for finding in bad:
        print(f"NOT ACCEPTED: {finding}")
    return 1 if bad or any(s.parsing_errors or not (s.passed + s.failed) for s in scans.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
