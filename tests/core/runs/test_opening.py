"""open_run and classify_path: what a path is, and a run folder's whole history with its checkpoint."""

import pytest
import torch

from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.model import VAE
from vae_desktop.core.runs.errors import RunFolderError
from vae_desktop.core.runs.opening import PathKind, PathTarget, classify_path, open_run, source_for, to_follow
from vae_desktop.core.runs.source import LocalSource
from vae_desktop.core.runs.state import UNKNOWN

from .conftest import batch, epoch_metrics, new_writer


def _checkpoint(z_dim: int = 2) -> Checkpoint:
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=z_dim, base_width=8, hidden=32))
    return Checkpoint(model.config, TrainConfig(epochs=2), "shapes",
                      {k: v.clone() for k, v in model.state_dict().items()}, history=TrainingHistory())


def test_a_run_folder_opens_with_its_latest_real_checkpoint_and_all_batch_rows(run_dir):
    checkpoint = _checkpoint()
    with new_writer(run_dir, epochs=2) as writer:
        for g in range(1, 21):
            writer.log_batch(batch(g))
            if g % 10 == 0:
                metrics = epoch_metrics(g // 10)
                writer.log_epoch(metrics)
                writer.save_checkpoint(lambda path: save_checkpoint(checkpoint, path), epoch=metrics)
    opened = open_run(LocalSource(run_dir))
    loaded = load_checkpoint(opened.checkpoint.path)  # the existing loader, unchanged
    assert loaded.model_config == checkpoint.model_config
    assert all(torch.equal(loaded.model_state[k], v) for k, v in checkpoint.model_state.items())
    arrays = opened.history.batch_arrays()
    assert list(arrays["global_step"]) == list(range(1, 21)) and list(arrays["kl"]) == [3.0] * 20
    assert [e.epoch for e in opened.history.epoch_metrics] == [1, 2]
    assert opened.status.state == "finished" and opened.problems == []


def test_a_folder_with_only_a_checkpoint_still_opens(tmp_path):
    save_checkpoint(_checkpoint(), tmp_path / "model.vaeckpt")  # what `train --out` wrote before run folders
    (tmp_path / "metrics.csv").write_text("epoch\n")
    opened = open_run(LocalSource(tmp_path))
    assert opened.checkpoint.name == "model.vaeckpt" and opened.status.state == UNKNOWN
    assert len(opened.history) == 0 and load_checkpoint(opened.checkpoint.path).dataset == "shapes"


def test_a_folder_without_any_run_file_is_refused_with_one_sentence(tmp_path):
    with pytest.raises(RunFolderError, match="is not a run folder: it has no run.json, metrics.jsonl or checkpoint"):
        open_run(LocalSource(tmp_path))
    with pytest.raises(RunFolderError, match="does not exist"):
        open_run(LocalSource(tmp_path / "nowhere"))


def test_following_an_empty_folder_waits_for_its_run_and_then_reads_it(tmp_path):
    folder = tmp_path / "next"
    folder.mkdir()
    opened = open_run(LocalSource(folder), wait_for_run=True)
    assert opened.status.state == UNKNOWN and opened.checkpoint is None and len(opened.history) == 0
    writer = new_writer(folder).start()
    writer.log_batch(batch(1))
    writer.log_epoch(epoch_metrics(1))
    writer.save_checkpoint(b"weights", epoch=epoch_metrics(1))
    writer.finish()
    update = opened.follower.poll()
    assert update.status.state == "finished" and update.batch_rows == 1 and len(update.epochs) == 1
    assert update.checkpoint is not None and update.checkpoint.name == "checkpoints/latest.vaeckpt"
    with pytest.raises(RunFolderError, match="does not exist"):  # a missing folder is not waited for
        open_run(LocalSource(tmp_path / "nowhere"), wait_for_run=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunFolderError, match="not a run folder"):
        open_run(LocalSource(tmp_path / "file"), wait_for_run=True)


def test_classify_path(tmp_path, run_dir):
    new_writer(run_dir).start().stop()
    (tmp_path / "model.vaeckpt").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    assert classify_path(run_dir).kind is PathKind.RUN_FOLDER
    assert classify_path(run_dir / "run.json") == classify_path(run_dir / "metrics.jsonl") == classify_path(run_dir)
    assert classify_path(tmp_path / "model.vaeckpt").kind is PathKind.CHECKPOINT
    assert classify_path(tmp_path).kind is PathKind.RUN_FOLDER  # a folder holding a checkpoint
    neither = classify_path(tmp_path / "notes.txt")
    assert neither.kind is PathKind.NEITHER and "neither a run folder nor a .vaeckpt checkpoint" in neither.reason
    empty = classify_path(tmp_path / "empty")  # followed while waiting for a run, never opened
    assert empty.kind is PathKind.NO_RUN_YET and "not a run folder" in empty.reason
    with pytest.raises(RunFolderError, match="not a run folder"):
        source_for(empty)
    assert to_follow(empty) == PathTarget(PathKind.RUN_FOLDER, str(tmp_path / "empty"))
    assert to_follow(classify_path(run_dir)) == classify_path(run_dir)
    remote = classify_path("me@gpu-box:/scratch/runs/today")
    assert remote.kind is PathKind.REMOTE and remote.address.host == "gpu-box" and remote.address.user == "me"
    assert classify_path(tmp_path / "no-such").kind is PathKind.NEITHER
    with pytest.raises(RunFolderError, match="neither"):
        source_for(neither)
    assert isinstance(source_for(classify_path(run_dir)), LocalSource)
