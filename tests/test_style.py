"""Repository-wide style rules that no linter checks: the gates `make test` runs first, and no
issue numbers in code, tests, Makefile or README (names and comments say why, not who asked)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
ISSUE_REFERENCE = re.compile(r"\b(issues?\s*#?\d+|#\d{1,4}\b(?!-)|\(issue\b)", re.IGNORECASE)


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    return [PROJECT_DIR / name for name in listed.stdout.splitlines()]


def test_no_file_refers_to_an_issue_number():
    checked = [
        p
        for p in tracked_files()
        if p.suffix in (".py", ".md", ".toml", ".yaml", ".yml", ".js") or p.name == "Makefile"
    ]
    assert len(checked) > 50
    found = [
        f"{p.relative_to(PROJECT_DIR)}:{n}: {line.strip()}"
        for p in checked
        if p.exists()
        for n, line in enumerate(p.read_text().splitlines(), start=1)
        if ISSUE_REFERENCE.search(line) and "hashicorp/terraform-cdk#" not in line
    ]
    assert not found, "\n".join(found)


def make_recipe(target: str) -> tuple[str, str]:
    """(prerequisites, recipe) of a Makefile target."""
    text = (PROJECT_DIR / "Makefile").read_text()
    match = re.search(rf"^{target}:([^\n]*)\n((?:\t[^\n]*\n)*)", text, re.M)
    assert match, target
    return match.group(1), match.group(2)


def test_make_test_runs_the_lint_gates_first():
    prerequisites, _ = make_recipe("test")
    assert "lint" in prerequisites.split()
    _, lint = make_recipe("lint")
    for command in ("ruff check", "ruff format --check", "mypy", "zizmor --offline"):
        assert command in lint, command
