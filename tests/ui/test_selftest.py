"""`vae-desktop --self-test`: passes on a working install, and names the failing step otherwise."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vae_desktop import logging_setup, selftest
from vae_desktop.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_self_test_passes_from_source(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # it must choose offscreen itself
    env.update(PYTHONPATH=str(REPO), HOME=str(tmp_path), VAE_DESKTOP_SELFTEST_REPORT=str(report))
    done = subprocess.run(
        [sys.executable, "-m", "vae_desktop", "--self-test"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("self-test passed")
    assert sum(line.startswith("ok   ") for line in lines) == len(selftest.STEPS)
    facts = json.loads(report.read_text())
    assert facts["passed"] is True and facts["first_window_s"] > 0
    assert facts["loss_last"] < facts["loss_first"]
    assert not any(tmp_path.glob("*.vaeckpt")), "the self-test works in its own temporary folder"


def test_a_failing_step_is_named_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = []

    def passes(ctx: selftest.SelfTestContext) -> str:
        ran.append("first")
        return "fine"

    def fails(ctx: selftest.SelfTestContext) -> str:
        raise selftest.SelfTestFailure("the decoder returned NaN")

    def never(ctx: selftest.SelfTestContext) -> str:
        ran.append("never")
        return ""

    monkeypatch.setattr(selftest, "STEPS", [("first", passes), ("decode", fails), ("after", never)])
    monkeypatch.setattr(logging_setup, "configure_logging", lambda: None)
    monkeypatch.setenv(selftest.REPORT_ENV, str(tmp_path / "report.json"))

    assert main(["--self-test"]) == 1
    out = capsys.readouterr().out
    assert "ok   first" in out
    assert "FAIL decode: the decoder returned NaN" in out
    assert "self-test FAILED at 'decode'" in out
    assert ran == ["first"], "steps after a failure do not run"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] is False and report["failure"] == "decode: the decoder returned NaN"


def test_an_unexpected_exception_names_its_type_and_place(monkeypatch: pytest.MonkeyPatch) -> None:
    def crashes(ctx: selftest.SelfTestContext) -> str:
        return {}["missing"]

    monkeypatch.setattr(selftest, "STEPS", [("load", crashes)])
    monkeypatch.setattr(logging_setup, "configure_logging", lambda: None)
    out = io.StringIO()
    assert selftest.run_self_test(out) == 1
    assert "FAIL load: KeyError: 'missing' at test_selftest.py:" in out.getvalue()
