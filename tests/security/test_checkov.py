"""Security gate: checkov 3.3.30 on every synthesized stack.

prod, the state bootstrap stack and every account's security baseline must have no failed check outside
the reviewed list ``security/checkov-accepted.yaml``; every stack must actually be parsed and checked (checkov
silently reads nothing on some cdktf output, see tools/checkov_gate.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.security import conftest as security_conftest
from tools import checkov_gate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scans(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, checkov_gate.StackScan]:
    dirs = sorted(d for d in (synth_dir / "stacks").iterdir() if (d / "cdk.tf.json").is_file())
    result = checkov_gate.scan(dirs, tmp_path_factory.mktemp("checkov"))
    security_conftest.SUMMARY[:] = checkov_gate.summary_lines(result, checkov_gate.load_accepted())
    return result


@pytest.fixture(scope="module")
def accepted() -> list[checkov_gate.Acceptance]:
    return checkov_gate.load_accepted()


def test_every_stack_is_scanned(scans, stacks) -> None:
    assert sorted(scans) == sorted(stacks)


def test_checkov_parsed_every_stack(scans) -> None:
    assert {name: s.parsing_errors for name, s in scans.items()} == {name: 0 for name in scans}


def test_checkov_ran_checks_on_every_stack(scans) -> None:
    empty = [name for name, s in scans.items() if s.passed + s.failed == 0]
    assert not empty, f"checkov ran no check on {empty}: it read nothing"


@pytest.mark.parametrize("stack", checkov_gate.GATED_STACKS)
def test_no_finding_outside_the_accepted_list(scans, accepted, stack) -> None:
    new = checkov_gate.unaccepted(scans[stack], accepted)
    assert not new, "checkov findings not in security/checkov-accepted.yaml (fix them):\n  " + "\n  ".join(
        map(str, new)
    )


def test_no_security_baseline_finding_outside_the_accepted_list(scans, accepted) -> None:
    baselines = [name for name in scans if name.startswith(checkov_gate.GATED_PREFIXES)]
    assert baselines, "no security baseline stack was scanned"
    new = [finding for name in baselines for finding in checkov_gate.unaccepted(scans[name], accepted)]
    assert not new, "checkov findings not in security/checkov-accepted.yaml (fix them):\n  " + "\n  ".join(
        map(str, new)
    )


def test_every_accepted_entry_is_still_needed(scans, accepted) -> None:
    stale = checkov_gate.unused(scans, accepted)
    assert not stale, f"remove these entries from security/checkov-accepted.yaml, nothing needs them: {stale}"


def test_accepted_entries_are_scoped_to_a_resource(accepted) -> None:
    broad = [a for a in accepted if a.resource.strip("*") == "" or a.resource.startswith("*")]
    assert not broad, f"accepted entries must name a resource: {broad}"


def test_uncleaned_required_version_hides_everything(tmp_path: Path, prod) -> None:
    """Why stacks are cleaned: with terraform.required_version checkov parses nothing and exits 0."""
    raw = json.loads(json.dumps(prod.json))
    raw.setdefault("terraform", {})["required_version"] = ">= 1.10"
    (tmp_path / "src" / "digital-booking-prod").mkdir(parents=True)
    (tmp_path / "src" / "digital-booking-prod" / "cdk.tf.json").write_text(json.dumps(raw))
    cleaned = checkov_gate.clean(raw)
    assert "required_version" not in cleaned["terraform"] and cleaned["resource"] == raw["resource"]
    source = [tmp_path / "src" / "digital-booking-prod"]
    as_is = checkov_gate.scan(source, tmp_path / "raw", cleaned=False)["digital-booking-prod"]
    assert as_is.passed + as_is.failed == 0 and as_is.parsing_errors > 0
    scan = checkov_gate.scan(source, tmp_path / "work")["digital-booking-prod"]
    assert scan.parsing_errors == 0 and scan.passed > 0


def test_clean_drops_import_and_moved_blocks() -> None:
    document = {
        "terraform": {"required_version": ">= 1.10", "backend": {"s3": {}}},
        "import": [{}],
        "moved": [{}],
        "resource": {"aws_vpc": {"x": {}}},
    }
    assert checkov_gate.clean(document) == {"terraform": {"backend": {"s3": {}}}, "resource": {"aws_vpc": {"x": {}}}}


def test_resource_name_drops_the_cdktf_hash() -> None:
    assert checkov_gate.resource_name("resource.app-servers_log-group_0DD51AF5") == "app-servers_log-group"
    assert (
        checkov_gate.resource_name("aws_s3_bucket.load-balancer_access-log-bucket_AE47107F")
        == "load-balancer_access-log-bucket"
    )


def test_acceptance_is_scoped_by_check_resource_and_stack() -> None:
    entry = checkov_gate.Acceptance("CKV_AWS_18", "state-store_state-bucket", "r", ("digital-booking-state",))
    finding = checkov_gate.Finding("digital-booking-state", "CKV_AWS_18", "state-store_state-bucket", "x", "")
    assert entry.covers(finding)
    assert not entry.covers(
        checkov_gate.Finding("digital-booking-prod", "CKV_AWS_18", "state-store_state-bucket", "x", "")
    )
    assert not entry.covers(
        checkov_gate.Finding("digital-booking-state", "CKV_AWS_19", "state-store_state-bucket", "x", "")
    )
    assert not entry.covers(checkov_gate.Finding("digital-booking-state", "CKV_AWS_18", "other-bucket", "x", ""))
