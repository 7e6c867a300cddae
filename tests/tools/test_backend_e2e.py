"""``make backend-e2e`` (tools/backend_e2e.py) when it stops early: a message and an exit code, no traceback.
The run itself is tests/stacks/test_state_backend_e2e.py (emulator)."""

from __future__ import annotations

from tools import backend_e2e


def test_ctrl_c_before_the_emulator_is_up_is_a_message_not_a_traceback(monkeypatch, capsys):
    def interrupted(base, log):
        raise KeyboardInterrupt

    monkeypatch.setattr(backend_e2e, "run", interrupted)
    assert backend_e2e.main([]) == 130
    assert "interrupted (Ctrl-C) before the emulator was up" in capsys.readouterr().err


def test_a_failure_before_the_emulator_is_up_is_a_message_not_a_traceback(monkeypatch, capsys):
    def broken(base, log):
        raise OSError("no space left on device")

    monkeypatch.setattr(backend_e2e, "run", broken)
    assert backend_e2e.main([]) == 1
    assert "FAILED before the emulator was up: no space left on device" in capsys.readouterr().err
