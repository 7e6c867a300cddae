"""Prints the checkov per-stack counts at the end of the run (no ``-s`` needed)."""

from __future__ import annotations

#: Filled by tests/security/test_checkov.py's scan fixture; printed by the hook below.
SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001 (pytest hook)
    if SUMMARY:
        terminalreporter.section("checkov security gate")
        for line in SUMMARY:
            terminalreporter.write_line(line)
