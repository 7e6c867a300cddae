"""``make clean`` removes what is generated and never Terraform state.

Each test runs the project's real Makefile (``make -f``) in a scratch directory laid out like a
checkout, so nothing in the working tree is touched.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from stacks.state_stack import BOOTSTRAP_STATE_FILE
from tools.terraform_cli import PROJECT_DIR


def make_clean(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(PROJECT_DIR / "Makefile"), "clean"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def touch(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_clean_removes_generated_files_and_keeps_the_bootstrap_state(tmp_path: Path) -> None:
    state = touch(tmp_path / BOOTSTRAP_STATE_FILE, '{"version": 4}')
    touch(tmp_path / "cdktf.out/stacks/digital-booking-dev/cdk.tf.json")
    # terraform init writes the backend settings (not state) to .terraform/terraform.tfstate
    touch(tmp_path / "cdktf.out/stacks/digital-booking-dev/.terraform/terraform.tfstate")
    touch(tmp_path / ".tools/terraformrc", "")
    result = make_clean(tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "cdktf.out").exists() and not (tmp_path / ".tools").exists()
    assert state.read_text() == '{"version": 4}'


def test_clean_refuses_while_a_state_file_is_under_cdktf_out(tmp_path: Path) -> None:
    """Where the bootstrap kept its state before it moved to bootstrap-state/."""
    old = touch(tmp_path / "cdktf.out/stacks/digital-booking-state/terraform.digital-booking-state.tfstate")
    backup = touch(tmp_path / "cdktf.out/stacks/digital-booking-dev/terraform.tfstate.backup")
    result = make_clean(tmp_path)
    assert result.returncode != 0
    assert "error: make clean would delete Terraform state:" in result.stderr
    assert str(old.relative_to(tmp_path)) in result.stderr and str(backup.relative_to(tmp_path)) in result.stderr
    assert "nothing was removed" in result.stderr
    assert old.exists() and backup.exists()
