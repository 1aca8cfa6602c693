import io
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from vae_desktop.core.checkpoint import FORMAT_VERSION, Checkpoint, load_checkpoint, save_checkpoint, save_payload
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.errors import CheckpointError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.model import VAE
from vae_desktop.core.resume import ResumePoint, resume_trainer
from vae_desktop.core.trainer import Trainer


def _trainer(dataset, **kwargs) -> Trainer:
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=3, base_width=8, hidden=64))
    return Trainer(model, dataset, TrainConfig(epochs=2, batch_size=100, seed=5, device="cpu"), **kwargs)


def _run_steps(trainer: Trainer, count: int) -> list:
    out = []
    for metrics in trainer.run():
        out.append(metrics)
        if sum(isinstance(m, BatchMetrics) for m in out) == count:
            trainer.stop()
    return out


def test_round_trip_keeps_weights_history_and_settings(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    events = list(trainer.run())
    path = save_checkpoint(Checkpoint.from_trainer(trainer, "shapes"), tmp_path / "m.vaeckpt")
    loaded = load_checkpoint(path)
    assert loaded.dataset == "shapes"
    assert loaded.model_config == trainer.model.config
    assert loaded.train_config == trainer.config
    for name, value in trainer.model.state_dict().items():
        torch.testing.assert_close(loaded.model_state[name], value)
    assert loaded.history.epochs == [e for e in events if isinstance(e, EpochMetrics)]
    arrays = loaded.history.batch_arrays()
    assert list(arrays["recon"]) == [m.recon for m in events if isinstance(m, BatchMetrics)]
    assert loaded.progress.epoch == 2
    model = loaded.build_model()
    x = small_shapes.test_images[:4].float() / 255
    torch.testing.assert_close(model.encode(x)[0], trainer.model.encode(x)[0])


@pytest.mark.parametrize("stop_after", [7, 20])  # mid-epoch, and exactly at an epoch's last step
def test_resume_takes_the_same_next_step(small_shapes, tmp_path, stop_after):
    reference = [m for m in _trainer(small_shapes).run() if isinstance(m, BatchMetrics)]
    first = _trainer(small_shapes)
    _run_steps(first, stop_after)
    path = save_checkpoint(Checkpoint.from_trainer(first, "shapes"), tmp_path / "m.vaeckpt")
    ckpt = load_checkpoint(path)
    resumed = resume_trainer(ResumePoint.of_checkpoint(ckpt), small_shapes, ckpt.train_config)  # as CLI and window do
    rest = [m for m in resumed.run() if isinstance(m, BatchMetrics)]
    assert [m.global_step for m in rest] == list(range(stop_after + 1, 41))
    for got, want in zip(rest, reference[stop_after:], strict=False):
        assert got.recon == pytest.approx(want.recon, rel=1e-5)
        assert got.kl == pytest.approx(want.kl, rel=1e-5, abs=1e-6)


def _expect_error(path, match: str) -> None:
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path)


def test_empty_file(tmp_path):
    (tmp_path / "e.vaeckpt").write_bytes(b"")
    _expect_error(tmp_path / "e.vaeckpt", "empty")


def test_truncated_file(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    _run_steps(trainer, 2)
    good = save_checkpoint(Checkpoint.from_trainer(trainer, "shapes"), tmp_path / "good.vaeckpt")
    data = good.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        bad = tmp_path / f"cut{cut}.vaeckpt"
        bad.write_bytes(data[:cut])
        _expect_error(bad, "damaged|not a VAE Desktop")


def test_random_bytes(tmp_path):
    path = tmp_path / "r.vaeckpt"
    path.write_bytes(os.urandom(5000))
    _expect_error(path, "damaged|not a VAE Desktop|unreadable")


def test_foreign_pytorch_file(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save(VAE(ModelConfig(z_dim=2)).state_dict(), path)
    _expect_error(path, "not a VAE Desktop checkpoint")


def test_future_format_version(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    payload = Checkpoint.from_trainer(trainer, "shapes").to_payload()
    payload["format_version"] = FORMAT_VERSION + 1
    save_payload(payload, tmp_path / "future.vaeckpt")
    _expect_error(tmp_path / "future.vaeckpt", "newer VAE Desktop")


def test_weights_that_do_not_fit_the_architecture(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    payload = Checkpoint.from_trainer(trainer, "shapes").to_payload()
    payload["model_config"]["z_dim"] = 7  # claims another z_dim than its weights have
    save_payload(payload, tmp_path / "mismatch.vaeckpt")
    _expect_error(tmp_path / "mismatch.vaeckpt", "do not match")


class _RunsCode:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_crafted_pickle_does_not_run_code(tmp_path):
    marker = tmp_path / "pwned"
    for path in (tmp_path / "legacy.vaeckpt", tmp_path / "zip.vaeckpt"):
        if path.name.startswith("legacy"):
            path.write_bytes(pickle.dumps({"format": "vae-desktop-checkpoint", "x": _RunsCode(str(marker))}))
        else:
            torch.save({"format": "vae-desktop-checkpoint", "x": _RunsCode(str(marker))}, path)
        _expect_error(path, "could run code|not a VAE Desktop|damaged")
    assert not marker.exists()


def test_unreadable_file(tmp_path):
    from tests.unprivileged import run_obeying_permissions

    path = tmp_path / "locked.vaeckpt"
    path.write_bytes(b"x" * 100)
    path.chmod(0)
    result = run_obeying_permissions(f"""
        from vae_desktop.core.checkpoint import load_checkpoint
        from vae_desktop.core.errors import CheckpointError
        try:
            load_checkpoint({str(path)!r})
        except CheckpointError as exc:
            print("error:", exc)
    """)
    assert result.returncode == 0, result.stderr
    assert f"error: No permission to read {path}." in result.stdout


def test_missing_file_and_folder(tmp_path):
    _expect_error(tmp_path / "nope.vaeckpt", "does not exist")
    _expect_error(tmp_path, "folder")


def test_save_is_atomic_when_writing_fails(small_shapes, tmp_path, monkeypatch):
    trainer = _trainer(small_shapes)
    target = tmp_path / "m.vaeckpt"
    save_checkpoint(Checkpoint.from_trainer(trainer, "shapes"), target)
    before = target.read_bytes()

    def failing_save(obj, handle):
        handle.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(CheckpointError, match="the disk is full"):
        save_checkpoint(Checkpoint.from_trainer(trainer, "shapes"), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.vaeckpt"]  # no temp file left behind


def test_checkpoint_is_a_zip_of_plain_data(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    path = save_checkpoint(Checkpoint.from_trainer(trainer, "shapes"), tmp_path / "m.vaeckpt")
    assert zipfile.is_zipfile(io.BytesIO(path.read_bytes()))


def test_saved_files_get_normal_permissions(small_shapes, tmp_path):
    old = os.umask(0o022)
    try:
        path = save_checkpoint(Checkpoint.from_trainer(_trainer(small_shapes), "shapes"), tmp_path / "m.vaeckpt")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_write_error_inside_torch_is_reported_with_its_real_reason(tmp_path):
    """torch's zip writer turns a failed write into "RuntimeError: unexpected pos"; the user must read the
    OS's reason instead. A file-size limit makes writes fail for real, without root or a full disk."""
    import resource
    import signal
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        from vae_desktop.core.checkpoint import Checkpoint, save_checkpoint
        from vae_desktop.core.config import ModelConfig, TrainConfig
        from vae_desktop.core.errors import CheckpointError
        from vae_desktop.core.model import VAE
        config = ModelConfig(z_dim=2, base_width=8, hidden=64)
        try:
            save_checkpoint(Checkpoint(config, TrainConfig(), "shapes", VAE(config).state_dict()), {str(tmp_path / "m.vaeckpt")!r})
        except CheckpointError as exc:
            print("error:", exc)
    """)

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write with EFBIG instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            preexec_fn=limit_file_size, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert result.returncode == 0, result.stderr
    assert "error: Could not save the checkpoint" in result.stdout and "File too large" in result.stdout
    assert "unexpected pos" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # the partial temp file is gone


# ---- the checksum ---------------------------------------------------------------------------------

def _largest_record(path: Path) -> tuple[int, int]:
    """(offset, size) of the biggest tensor record's data inside the zip file."""
    with zipfile.ZipFile(path) as archive:
        info = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    with path.open("rb") as handle:
        handle.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(handle.read(2), "little"), int.from_bytes(handle.read(2), "little")
    return info.header_offset + 30 + name_len + extra_len, info.file_size


def _flip_4k_inside_a_tensor(path: Path) -> None:
    offset, size = _largest_record(path)
    assert size > 3 * 4096
    data = bytearray(path.read_bytes())
    start = offset + size // 3
    data[start:start + 4096] = bytes(b ^ 0x10 for b in data[start:start + 4096])
    path.write_bytes(bytes(data))


def _old_format_file(checkpoint: Checkpoint, path: Path) -> Path:
    """A file as VAE Desktop wrote it before checksums: torch.save of the payload, nothing else."""
    payload = checkpoint.to_payload()
    payload.pop("integrity", None)
    torch.save(payload, path)
    return path


def test_4k_of_flipped_bits_inside_a_tensor_record_are_detected(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    _run_steps(trainer, 3)
    path = save_checkpoint(Checkpoint.from_trainer(trainer, "shapes"), tmp_path / "m.vaeckpt")
    _flip_4k_inside_a_tensor(path)
    _expect_error(path, "damaged: its contents no longer match the checksum stored when it was saved")


def test_4k_of_flipped_bits_in_a_file_saved_before_checksums_are_caught_by_the_zip_crcs(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    _run_steps(trainer, 3)
    path = _old_format_file(Checkpoint.from_trainer(trainer, "shapes"), tmp_path / "old.vaeckpt")
    _flip_4k_inside_a_tensor(path)
    _expect_error(path, r"damaged: its part 'old/data/\d+' does not match the CRC")


def test_a_file_saved_before_checksums_loads_with_a_note(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    path = _old_format_file(Checkpoint.from_trainer(trainer, "shapes"), tmp_path / "old.vaeckpt")
    loaded = load_checkpoint(path)
    assert len(loaded.notes) == 1 and "saved without a checksum" in loaded.notes[0]
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(loaded.model_state[name], value)
    resaved = load_checkpoint(save_checkpoint(loaded, tmp_path / "resaved.vaeckpt"))
    assert resaved.notes == ()


def test_a_saved_checkpoint_ends_with_its_sha256(small_shapes, tmp_path):
    import hashlib

    path = save_checkpoint(Checkpoint.from_trainer(_trainer(small_shapes), "shapes"), tmp_path / "m.vaeckpt")
    data = path.read_bytes()
    comment = zipfile.ZipFile(path).comment
    assert comment.startswith(b"vae-desktop-sha256:")
    assert comment.endswith(hashlib.sha256(data[: -len(comment)]).hexdigest().encode())
    assert load_checkpoint(path).notes == ()


def test_a_damaged_checksum_is_not_taken_for_a_file_without_one(small_shapes, tmp_path):
    path = save_checkpoint(Checkpoint.from_trainer(_trainer(small_shapes), "shapes"), tmp_path / "m.vaeckpt")
    data = bytearray(path.read_bytes())
    data[-70] ^= 0xFF  # inside the "vae-desktop-sha256:" tag
    path.write_bytes(bytes(data))
    _expect_error(path, "saved with a checksum, but the checksum at its end is missing or unreadable")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.vaeckpt"
    os.mkfifo(fifo)
    _expect_error(fifo, "not a regular file")


def test_a_2gb_sparse_file_gets_a_whole_sentence(tmp_path):
    """torch's own text was cut mid-word ("...Re-runn"); the message is ours and ends in a whole word."""
    path = tmp_path / "sparse.vaeckpt"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024**3)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert str(error.value) == ("sparse.vaeckpt is damaged or not a VAE Desktop checkpoint: it is not a complete "
                                "zip archive (was it cut off while copying?).")
