"""`vae-desktop watch RUN [RUN …]`: what is not a run folder (or a folder for one yet to start) or an
address is refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vae_desktop", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize(("argument", "words"), [
    ("{tmp}/nowhere", "does not exist: to follow a run that is yet to start there, create the folder first (mkdir "),
    ("{tmp}/nowhere/deeper", "does not exist."),
    ("ssh://gpu1:99999/runs/a", "invalid port"),
    ("ssh:///runs/a", "names no host"),
    ("{tmp}/files/model.vaeckpt", "is a checkpoint, not a run folder"),
    ("", "must not be empty"),
])
def test_bad_runs_are_refused_in_one_line(tmp_path, argument, words):
    (tmp_path / "empty").mkdir()
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "model.vaeckpt").write_bytes(b"x")
    result = _run("watch", argument.format(tmp=tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vae-desktop watch: error:") and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_watch_needs_at_least_one_run():
    result = _run("watch")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_watch_parses_several_runs_and_remote_addresses(tmp_path):
    from vae_desktop.cli import build_parser

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "run.json").write_text("{}")
    (tmp_path / "queued").mkdir()  # no run yet: followed, waiting for one to start there
    given = [str(tmp_path / "a"), str(tmp_path / "queued"), "me@gpu1:/runs/b", "ssh://gpu2:2222/runs/c"]
    args = build_parser().parse_args(["watch", *given])
    assert args.command == "watch" and args.runs == given
