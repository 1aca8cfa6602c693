"""`train --out`: one writer per folder, metrics.csv that agrees with the checkpoint, no stale temp files,
and one clear line (no traceback) when the folder cannot be written: real processes, real kills, real disks.

Kills and full disks happen at exact moments through a Python audit hook in the child (`_HOOKED`): it
watches the child's own file events and, at the chosen one, sends it SIGKILL or fills its real tmpfs.
Nothing in the app is replaced; the hook only decides *when* the real thing happens.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from tests.shape_folders import write_shape_pngs
from vae_desktop.core.checkpoint import load_checkpoint, save_payload
from vae_desktop.core.runs.opening import open_run
from vae_desktop.core.runs.source import LocalSource

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}

# argv: ACTION ("kill" | "fill") EVENT ("save" | "csv") AFTER (checkpoint renames before it) -- cli args...
# "save": the open of the latest checkpoint's temp file; "csv": the open of metrics.csv's temp file;
# "rename": the rename of the checkpoint's temp file over checkpoints/latest.vaeckpt.
_HOOKED = textwrap.dedent("""
    import os, re, signal, sys
    action, event, after = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cli_args = sys.argv[sys.argv.index("--") + 1:]
    temp = {"save": r"\\.latest\\.vaeckpt\\.[a-z0-9_]{8}\\.tmp", "csv": r"\\.metrics\\.csv\\.[a-z0-9_]{8}\\.tmp"}
    state = {"renames": 0, "busy": False}

    def fill(folder):
        with open(os.path.join(folder, "filler"), "wb") as handle:
            try:
                while True:
                    handle.write(b"x" * 65536)
                    handle.flush()
            except OSError:
                pass

    def act(path):
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        state["busy"] = True
        fill(os.path.dirname(os.path.dirname(path)))  # the disk holding --out (its parent folder)
        state["busy"] = False

    def hook(name, args):
        if state["busy"] or not args or not isinstance(args[0], str):
            return
        base = os.path.basename(args[0])
        if name == "os.rename" and isinstance(args[1], str) and os.path.basename(args[1]) == "latest.vaeckpt":
            if event == "rename" and state["renames"] == after:
                act(args[1])
            state["renames"] += 1
        elif name == "open" and event in temp and re.fullmatch(temp[event], base) and state["renames"] == after:
            act(args[0])

    sys.addaudithook(hook)
    from vae_desktop.cli import main
    sys.exit(main(cli_args))
""")


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """A small folder dataset of real rendered shapes (200 images: a few steps per epoch)."""
    root = tmp_path_factory.mktemp("imgs")
    return write_shape_pngs(root)


def _train_args(images: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--dataset", f"folder:{images}", "--batch-size", "64", "--z-dim", "2", "--base-width", "8",
            "--out", str(out), "--quiet", *extra]


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vae_desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def run_hooked(action: str, event: str, after: int, args: list[str], mount: str | None = None,
               timeout: float = 240) -> subprocess.CompletedProcess:
    """Run the CLI with `_HOOKED`; `mount`: first mount a private tmpfs (`size=...`) on --out's parent."""
    command = [sys.executable, "-c", _HOOKED, action, event, str(after), "--", *args]
    if mount is not None:
        command = _in_private_tmpfs(Path(args[args.index("--out") + 1]).parent, mount, command)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=ENV)


def _in_private_tmpfs(point: Path, options: str, command: list[str]) -> list[str]:
    """`command` inside its own mount namespace, with a real tmpfs on `point` that vanishes with it."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a private tmpfs")
    point.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=1m none {point}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a private namespace here ({probe.stderr.strip()})")
    script = 'mount -t tmpfs -o "$1" none "$2" && shift 2 && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh", options, str(point), *command]


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("vae-desktop: error: "), result.stderr
    assert not any(line.startswith("vae-desktop: error: ") for line in lines[:-1]), result.stderr
    return lines[-1]


def _csv_epochs(path: Path) -> list[str]:
    with path.open() as handle:
        return [row["epoch"] for row in csv.DictReader(handle)]


# ---- one writer per --out ----------------------------------------------------------------------------

def test_a_second_train_into_the_same_out_is_refused_naming_the_first(images, tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "vae_desktop", *_train_args(images, out, "--epochs", "100000")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / ".latest.vaeckpt.lock.json").exists():  # the first one owns --out
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        second = run_cli(*_train_args(images, out, "--epochs", "1"))
        line = _one_error_line(second)
        assert f"--out {out} is in use" in line
        assert f"vae-desktop train (process {first.pid} on {socket.gethostname()}, since " in line
        assert first.poll() is None  # the first run goes on, unharmed
        while not (out / "checkpoints" / "latest.vaeckpt").exists():  # and saves its first epoch
            assert first.poll() is None and time.monotonic() < deadline + 120
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    # A killed holder leaves no lock behind: the next run continues its checkpoint.
    resumed = run_cli(*_train_args(images, out, "--epochs", "1"), "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(out / "checkpoints" / "latest.vaeckpt").progress.epoch >= 1


# ---- the log and the checkpoint agree after a kill --------------------------------------------------------

def test_a_kill_after_an_epoch_row_but_before_its_checkpoint_is_rewound_and_retrained(images, tmp_path):
    out = tmp_path / "run"
    killed = run_hooked("kill", "csv", 1, _train_args(images, out, "--epochs", "2"))  # epoch 2's metrics.csv
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    latest = out / "checkpoints" / "latest.vaeckpt"
    assert load_checkpoint(latest).progress.epoch == 1
    assert _csv_epochs(out / "metrics.csv") == ["1"]
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()
              if line.startswith('{"type":"epoch"')]
    assert [row["epoch"] for row in logged] == [1, 2]  # the log is one epoch ahead of the checkpoint

    again = run_cli(*_train_args(images, out, "--epochs", "2"), "--resume", str(out))
    assert again.returncode == 0, again.stderr
    assert _csv_epochs(out / "metrics.csv") == ["1", "2"]
    opened = open_run(LocalSource(out))
    assert [e.epoch for e in opened.history.epoch_metrics] == [1, 2]
    assert '"type":"rewind"' in (out / "metrics.jsonl").read_text()
    # The retrained epoch 2 takes the very same steps as the one the kill lost.
    assert opened.history.epoch_metrics[1].test_total == pytest.approx(logged[1]["test_total"], rel=1e-6)
    history = load_checkpoint(latest).history.epochs
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["test_total"]) for r in rows] == pytest.approx([e.test_total for e in history], rel=1e-5)


# ---- stale temp files --------------------------------------------------------------------------------------

def test_temp_files_left_by_a_kill_mid_save_are_removed_by_the_next_run_and_nothing_else(images, tmp_path):
    out = tmp_path / "run"
    killed = run_hooked("kill", "rename", 0, _train_args(images, out, "--epochs", "1"))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    checkpoints = out / "checkpoints"
    left = sorted(p.name for p in checkpoints.glob(".latest.vaeckpt.*.tmp"))
    assert len(left) == 1 and (checkpoints / left[0]).stat().st_size > 10_000  # a whole checkpoint, never renamed
    (out / ".metrics.csv.k3j_x9a0.tmp").write_text("epoch\n")  # as a kill while writing the CSV leaves it
    others = [checkpoints / ".other.vaeckpt.abcdefgh.tmp", out / "notes.tmp",
              checkpoints / ".latest.vaeckpt.abcdefgh.tmp.keep", checkpoints / ".latest.vaeckpt.abc.tmp"]
    for path in others:
        path.write_text("not ours")

    # Killed before its first checkpoint: nothing to continue, so the folder is trained anew.
    refused = run_cli(*_train_args(images, out, "--epochs", "1"), "--resume", str(out))
    assert "holds no checkpoint yet" in _one_error_line(refused)
    again = run_cli(*_train_args(images, out, "--epochs", "1"), "--overwrite")
    assert again.returncode == 0, again.stderr
    assert "Note: removed 2 temporary files left in" in again.stderr
    assert not (checkpoints / left[0]).exists() and not (out / ".metrics.csv.k3j_x9a0.tmp").exists()
    assert all(path.read_text() == "not ours" for path in others)


# ---- writing fails: one line that says what is on disk -----------------------------------------------------

def test_a_full_disk_while_writing_metrics_csv_is_one_line(images, tmp_path):
    out = tmp_path / "disk" / "run"
    result = run_hooked("fill", "csv", 1, _train_args(images, out, "--epochs", "3"), mount="size=8m")
    line = _one_error_line(result)
    assert f"Could not write {out / 'metrics.csv'}: the disk is full. Training stopped: epoch 2 is not saved; " in line
    assert f"{out / 'checkpoints' / 'latest.vaeckpt'} holds the run up to epoch 1; continue from it with --resume {out}" in line


def test_a_full_disk_while_saving_the_checkpoint_says_what_is_saved_where(images, tmp_path):
    out = tmp_path / "disk" / "run"
    result = run_hooked("fill", "save", 1, _train_args(images, out, "--epochs", "3"), mount="size=8m")
    line = _one_error_line(result)
    assert f"Could not save the checkpoint to {out / 'checkpoints' / 'latest.vaeckpt'}: the disk is full." in line
    assert "Training stopped: epoch 2 is not saved; " in line
    assert f"{out / 'checkpoints' / 'latest.vaeckpt'} holds the run up to epoch 1; continue from it with --resume {out}" in line
    assert "Nothing was lost" not in line and "still open" not in line  # the CLI exits: that would be untrue


def test_out_under_a_regular_file_is_one_line(images, tmp_path):
    (tmp_path / "notes.txt").write_text("a file")
    result = run_cli(*_train_args(images, tmp_path / "notes.txt" / "run", "--epochs", "1"))
    line = _one_error_line(result)
    assert line == (f"vae-desktop: error: Cannot write into --out {tmp_path / 'notes.txt' / 'run'}: "
                    f"{tmp_path / 'notes.txt'} is not a folder: it is a file.")


@pytest.mark.parametrize("inside", [True, False], ids=["out-inside-read-only-disk", "out-is-read-only-disk"])
def test_out_on_a_read_only_disk_is_one_line(images, tmp_path, inside):
    disk = tmp_path / "disk"
    out = disk / "run" if inside else disk
    command = [sys.executable, "-m", "vae_desktop", *_train_args(images, out, "--epochs", "1")]
    result = subprocess.run(_in_private_tmpfs(disk, "ro,size=1m", command), capture_output=True, text=True,
                            timeout=240, env=ENV)
    line = _one_error_line(result)
    assert line == f"vae-desktop: error: Cannot write into --out {out}: that disk is read-only."


# ---- checkpoints that cannot be used ---------------------------------------------------------------------

def _trained(images: Path, tmp_path: Path) -> Path:
    out = tmp_path / "good"
    done = run_cli(*_train_args(images, out, "--epochs", "1"))
    assert done.returncode == 0, done.stderr
    return out / "checkpoints" / "latest.vaeckpt"


def _edited(path: Path, target: Path, edit) -> Path:
    payload = torch.load(path, weights_only=True)
    edit(payload)
    return save_payload(payload, target)


@pytest.mark.parametrize("name, edit, needle", [
    ("optimizer state", lambda p: p.__setitem__("optimizer_state", "x"), "its optimizer_state is not a table"),
    ("optimizer group", lambda p: p["optimizer_state"]["param_groups"].append({"params": []}),
     "its optimizer_state does not have the one parameter group"),
    ("rng state", lambda p: p.__setitem__("rng_state", torch.zeros(5056, dtype=torch.uint8)),
     "its rng_state is not a valid random state"),
    ("epoch inf", lambda p: p["progress"].__setitem__("epoch", math.inf), "its progress.epoch is not a whole number"),
])
def test_resuming_a_malformed_checkpoint_is_one_line(images, tmp_path, name, edit, needle):
    bad = _edited(_trained(images, tmp_path), tmp_path / "bad.vaeckpt", edit)
    result = run_cli(*_train_args(images, tmp_path / "next", "--epochs", "3"), "--resume", str(bad))
    assert needle in _one_error_line(result)


def test_evaluating_nan_weights_is_refused(images, tmp_path):
    def poison(payload: dict) -> None:
        next(iter(payload["model_state"].values())).view(-1)[0] = math.nan

    bad = _edited(_trained(images, tmp_path), tmp_path / "nan.vaeckpt", poison)
    result = run_cli("evaluate", str(bad), "--dataset", f"folder:{images}")
    line = _one_error_line(result)
    assert "nan.vaeckpt cannot be used: its weights are not finite numbers (NaN or infinity in " in line
    assert "recon" not in result.stdout
    resumed = run_cli(*_train_args(images, tmp_path / "next", "--epochs", "3"), "--resume", str(bad))
    assert "its weights are not finite numbers" in _one_error_line(resumed)


def _blow_up(payload: dict) -> None:
    """Finite weights so large that every output overflows."""
    for name, tensor in payload["model_state"].items():
        if name.endswith("weight"):
            tensor.mul_(1e30)


def test_evaluating_weights_that_overflow_gives_no_nan_numbers(images, tmp_path):
    bad = _edited(_trained(images, tmp_path), tmp_path / "huge.vaeckpt", _blow_up)
    result = run_cli("evaluate", str(bad), "--dataset", f"folder:{images}")
    assert "gives no finite test loss" in _one_error_line(result)
    assert "nan" not in result.stdout


def test_resuming_weights_that_fail_at_the_first_step_does_not_claim_a_restore(images, tmp_path):
    bad = _edited(_trained(images, tmp_path), tmp_path / "huge.vaeckpt", _blow_up)
    result = run_cli(*_train_args(images, tmp_path / "next", "--epochs", "3"), "--resume", str(bad))
    line = _one_error_line(result)
    assert "Training stopped: the loss became NaN at epoch 2, step 1. Nothing was changed" in line
    assert "restored" not in line


def test_a_checkpoint_saved_before_checksums_resumes_with_a_note(images, tmp_path):
    good = _trained(images, tmp_path)
    payload = torch.load(good, weights_only=True)
    payload.pop("integrity", None)
    torch.save(payload, tmp_path / "old.vaeckpt")
    result = run_cli("evaluate", str(tmp_path / "old.vaeckpt"), "--dataset", f"folder:{images}")
    assert result.returncode == 0, result.stderr
    assert "Note: old.vaeckpt was saved without a checksum" in result.stderr and "negative ELBO" in result.stdout
