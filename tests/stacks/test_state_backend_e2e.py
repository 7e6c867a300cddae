"""The real S3 backend end to end against the emulator over TLS (``make backend-e2e``).

Terraform "Backend Type: s3": with ``encrypt`` and ``kms_key_id``, the state and the lock file
are encrypted with that key; ``dynamodb_table`` and ``use_lockfile`` take both locks. S3 user
guide, "Protecting data with server-side encryption using AWS KMS keys (SSE-KMS)", "Requiring
server-side encryption": the bucket policy refuses writes asking for other encryption or
another key. The run deploys the bootstrap with that policy, puts a few dev resources on the
dev stage's own backend block, and checks each of these along the way (tools/backend_e2e.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import backend_e2e

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


def test_state_under_the_state_key_both_locks_and_a_clean_teardown(tmp_path: Path) -> None:
    lines: list[str] = []
    ok, timings = backend_e2e.run(tmp_path, log=lines.append)
    log = "\n".join(lines)
    assert ok, log
    assert "bucket policy: DenyInsecureTransport, DenyWritesWithoutKms, DenyWritesWithAnotherKey" in log
    assert "PutObject with AES256: HTTP 403" in log and "PutObject with another KMS key: HTTP 403" in log
    key_arn = next(line.split()[2] for line in lines if line.strip().startswith("state key arn:"))
    assert f"terraform.tfstate: ServerSideEncryption=aws:kms, SSEKMSKeyId={key_arn}" in log
    assert f"terraform.tfstate.tflock: ServerSideEncryption=aws:kms, SSEKMSKeyId={key_arn}" in log
    assert "LockID=digital-booking-terraform-state/stages/dev/terraform.tfstate (OperationTypeApply" in log
    assert "writer 2: Error acquiring the state lock" in log
    assert "0 resources left in the stage's state" in log
    assert "0 resources left in the bootstrap's state; buckets [], tables []" in log
    assert len(timings) == 6
