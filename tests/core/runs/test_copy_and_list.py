"""Copying a run folder (the window's Save as), listing a runs folder (File ▸ Recent runs) and owning
a run folder (the window's lock, an interrupted run marked stopped once reopened)."""

from __future__ import annotations

import json
import time

import pytest

from vae_desktop.core.errors import RunInUseError
from vae_desktop.core.runs.copying import copy_run, fetch_run
from vae_desktop.core.runs.errors import RunFolderError
from vae_desktop.core.runs.listing import list_runs
from vae_desktop.core.runs.owner import OwnedRunFolder
from vae_desktop.core.runs.recorder import run_folder_in_use
from vae_desktop.core.runs.source import LocalSource

from .conftest import batch, epoch_metrics, new_writer


def _left_running(folder) -> None:
    """As a kill -9 leaves a run: run.json says running, its heartbeat ten minutes old."""
    writer = new_writer(folder).start()
    writer.log_batch(batch(1))
    writer.log_epoch(epoch_metrics(1))
    writer.save_checkpoint(b"weights", epoch=epoch_metrics(1))
    writer.finish()
    data = json.loads((folder / "run.json").read_text())
    data.update(status="running", ended_at=None, ended_at_s=None, heartbeat_at_s=time.time() - 600)
    (folder / "run.json").write_text(json.dumps(data))


def test_a_copy_of_a_running_run_is_whole_and_marked_stopped(tmp_path):
    source = tmp_path / "run"
    writer = new_writer(source).start()
    writer.log_batch(batch(1))
    writer.log_epoch(epoch_metrics(1))
    writer.save_checkpoint(b"weights", epoch=epoch_metrics(1))
    with open(source / "metrics.jsonl", "ab") as log:
        log.write(b'{"type":"batch","glob')  # a line being appended as the copy is made
    try:
        copy = copy_run(source, tmp_path / "copy")
    finally:
        writer.stop()
    assert (copy / "metrics.jsonl").read_bytes().endswith(b"\n")
    assert (copy / "metrics.jsonl").read_bytes() in (source / "metrics.jsonl").read_bytes()
    assert (copy / "checkpoints" / "latest.vaeckpt").read_bytes() == b"weights"
    info = json.loads((copy / "run.json").read_text())
    assert info["status"] == "stopped" and info["message"] == "copied while it trained"
    assert not [p for p in (copy / "checkpoints").iterdir() if p.name.startswith(".")]  # no lock files
    with pytest.raises(RunFolderError, match="not an empty folder"):
        copy_run(source, copy)


def test_fetching_a_run_copies_what_continuing_needs_into_a_new_run_folder(tmp_path):
    source = tmp_path / "remote" / "run"
    with new_writer(source, epochs=2, keep_every=1) as writer:
        for g in range(1, 21):
            writer.log_batch(batch(g))
            if g % 10 == 0:
                writer.log_epoch(epoch_metrics(g // 10))
                writer.save_checkpoint(f"weights {g}".encode(), epoch=epoch_metrics(g // 10))
    kept = sorted(p.name for p in (source / "checkpoints").iterdir())
    assert "epoch-0001.vaeckpt" in kept and "best.vaeckpt" in kept
    with LocalSource(source) as reader:
        folder = fetch_run(reader, tmp_path / "runs", "folder:/data/my images", 2)
    assert folder.parent == tmp_path / "runs" and folder.name.endswith("-my-images-z2")
    for name in ("run.json", "metrics.jsonl", "metrics.csv", "checkpoints/latest.vaeckpt"):
        assert (folder / name).read_bytes() == (source / name).read_bytes(), name
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["latest.vaeckpt"]  # not every kept one
    with LocalSource(source) as reader:  # a second copy gets a folder of its own
        assert fetch_run(reader, tmp_path / "runs", "folder:/data/my images", 2).name == f"{folder.name}-2"


def test_fetching_a_run_without_a_checkpoint_fails_in_one_sentence_and_leaves_nothing(tmp_path):
    source = tmp_path / "run"
    writer = new_writer(source).start()
    writer.log_batch(batch(1))
    writer.stop()
    with pytest.raises(RunFolderError, match="holds no checkpoint yet, so there is nothing to continue from"):
        fetch_run(LocalSource(source), tmp_path / "runs", "shapes", 2)
    assert list((tmp_path / "runs").iterdir()) == []
    _left_running(tmp_path / "left")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(RunFolderError, match="Could not make a run folder in .*a-file"):
        fetch_run(LocalSource(tmp_path / "left"), tmp_path / "a-file", "shapes", 2)
    with LocalSource(tmp_path / "left") as reader:  # a run that was left running is copied as stopped
        copy = fetch_run(reader, tmp_path / "runs", "shapes", 2)
    info = json.loads((copy / "run.json").read_text())
    assert info["status"] == "stopped" and info["message"] == "copied while it trained"


def test_the_runs_folder_lists_its_runs_newest_first_an_interrupted_one_marked(tmp_path):
    with new_writer(tmp_path / "2026-01-01-shapes-z2") as writer:
        writer.log_batch(batch(1))
    time.sleep(0.01)
    _left_running(tmp_path / "2026-01-02-mnist-z2")
    (tmp_path / "not-a-run").mkdir()
    runs = list_runs(tmp_path)
    assert [r.folder.name for r in runs] == ["2026-01-01-shapes-z2", "2026-01-02-mnist-z2"]  # by heartbeat
    assert [r.status for r in runs] == ["stopped", "interrupted"]  # closed before its planned epochs
    assert runs[1].label() == "2026-01-02-mnist-z2 — epoch 1, interrupted"
    assert list_runs(tmp_path / "missing") == []


def test_owning_an_interrupted_run_locks_it_and_marks_it_stopped(tmp_path):
    folder = tmp_path / "run"
    _left_running(folder)
    owned = OwnedRunFolder.claim(folder)
    try:
        assert run_folder_in_use(folder)
        assert json.loads((folder / "run.json").read_text())["status"] == "stopped"
        with pytest.raises(RunInUseError):
            OwnedRunFolder.claim(folder)  # one writer per folder, inside one process too
    finally:
        owned.release()
    assert not run_folder_in_use(folder)
    assert [r.status for r in list_runs(tmp_path)] == ["stopped"]  # offered once, not again


def test_a_run_alive_elsewhere_is_not_taken_over(tmp_path):
    folder = tmp_path / "run"
    writer = new_writer(folder).start()  # running, heartbeat fresh: as a writer on another machine looks
    try:
        data = json.loads((folder / "run.json").read_text())
        data["host"] = "another-machine"
        (folder / "run.json").write_text(json.dumps(data))
        with pytest.raises(RunInUseError, match="still being written"):
            OwnedRunFolder.claim(folder)
    finally:
        writer.stop()


def test_new_run_folders_are_made_under_the_runs_folder_and_locked(tmp_path):
    first = OwnedRunFolder.create(tmp_path / "runs", "folder:/data/My Faces", 8)
    second = OwnedRunFolder.create(tmp_path / "runs", "folder:/data/My Faces", 8)
    try:
        assert first.folder.name.endswith("-my-faces-z8") and second.folder.name == first.folder.name + "-2"
        assert run_folder_in_use(first.folder) and run_folder_in_use(second.folder)
    finally:
        first.release()
        second.release()
