"""Property-based: whatever bytes or text users feed in, only clean, user-facing errors come out."""

import io
import zipfile

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_desktop.core.config import ModelConfig, TrainConfig, parse_float, parse_int
from vae_desktop.core.errors import CheckpointError, ConfigError
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.metrics import BatchMetrics
from vae_desktop.core.model import VAE
from vae_desktop.core.optimizer import make_adam
from vae_desktop.core.trainer import TrainingProgress

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_load_and_never_crash(tmp_path, data):
    path = tmp_path / "fuzz.vaeckpt"
    path.write_bytes(data)
    try:
        load_checkpoint(path)
    except CheckpointError as exc:
        assert str(exc)
    else:  # pragma: no cover - random bytes are never a valid checkpoint
        raise AssertionError("random bytes loaded as a checkpoint")


def _small_checkpoint() -> Checkpoint:
    """A real checkpoint with every field filled: weights, Adam moments after one step, history, RNG state."""
    torch.manual_seed(0)
    config = ModelConfig(z_dim=2, base_width=4, hidden=8)
    model = VAE(config)
    optimizer = make_adam(model.parameters(), 1e-3, "cpu")
    x = torch.rand(4, 1, 28, 28)
    out = model(x)
    out.logits.mean().backward()
    optimizer.step()
    history = TrainingHistory()
    history.add_batch(BatchMetrics(1, 1, 5, 1, 500.0, 3.0, 503.0, 100.0))
    progress = TrainingProgress(epoch=0, step_in_epoch=1, global_step=1, epoch_recon_sum=2000.0,
                                epoch_kl_sum=12.0, epoch_images=4, epoch_seconds=0.1)
    return Checkpoint(config, TrainConfig(), "shapes", model.state_dict(), history=history, progress=progress,
                      optimizer_state=optimizer.state_dict(), rng_state=torch.get_rng_state())


class _Files(dict):
    def __repr__(self) -> str:  # hypothesis prints fixtures of a failing example: not 100 KB of bytes
        return f"<checkpoint files: {', '.join(f'{k} ({len(v)} bytes)' for k, v in self.items())}>"


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory) -> dict[str, bytes]:
    """The same checkpoint as saved now (with its checksum) and as saved before checksums existed."""
    folder = tmp_path_factory.mktemp("valid")
    checkpoint = _small_checkpoint()
    current = save_checkpoint(checkpoint, folder / "current.vaeckpt").read_bytes()
    payload = checkpoint.to_payload()
    payload.pop("integrity", None)
    torch.save(payload, folder / "old.vaeckpt")
    return _Files(current=current, old=(folder / "old.vaeckpt").read_bytes())


def _same_content(a: Checkpoint, b: Checkpoint) -> bool:
    """Everything a user gets from a checkpoint is equal (the loaded file's notes aside)."""
    def tensors_equal(x, y) -> bool:
        if isinstance(x, torch.Tensor):
            return isinstance(y, torch.Tensor) and x.dtype == y.dtype and torch.equal(x, y)
        if isinstance(x, dict):
            return isinstance(y, dict) and x.keys() == y.keys() and all(tensors_equal(x[k], y[k]) for k in x)
        if isinstance(x, (list, tuple)):
            return type(x) is type(y) and len(x) == len(y) and all(map(tensors_equal, x, y))
        return x == y

    pa, pb = a.to_payload(), b.to_payload()
    return tensors_equal(pa, pb)


def _flip(data: bytes, positions: list[int], mask: int) -> bytes:
    flipped = bytearray(data)
    for pos in positions:
        flipped[pos % len(flipped)] ^= mask
    return bytes(flipped)


@FUZZ
@given(positions=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8),
       mask=st.integers(1, 255))
def test_every_flip_in_a_checksummed_checkpoint_is_detected(tmp_path, valid_files, positions, mask):
    data = _flip(valid_files["current"], positions, mask)
    path = tmp_path / "bad.vaeckpt"
    path.write_bytes(data)
    if data == valid_files["current"]:  # flips that cancel out (the same byte twice)
        return
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


@FUZZ
@given(positions=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8),
       mask=st.integers(1, 255))
def test_flips_in_a_file_saved_before_checksums_are_detected_or_change_nothing(tmp_path, valid_files, positions, mask):
    """Without a checksum only the records' CRC32s are checked: a flip in a zip header or padding may
    pass, but then nothing that loads may differ from the original."""
    (tmp_path / "good.vaeckpt").write_bytes(valid_files["old"])
    original = load_checkpoint(tmp_path / "good.vaeckpt")
    path = tmp_path / "bad.vaeckpt"
    path.write_bytes(_flip(valid_files["old"], positions, mask))
    try:
        loaded = load_checkpoint(path)
    except CheckpointError:
        return
    assert _same_content(loaded, original)


@FUZZ
@given(positions=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8), value=st.integers(0, 255))
def test_corrupted_real_checkpoints_fail_cleanly(tmp_path, valid_files, positions, value):
    data = bytearray(valid_files["old"])
    for pos in positions:
        data[pos % len(data)] = value
    path = tmp_path / "bad.vaeckpt"
    path.write_bytes(bytes(data))
    try:
        loaded = load_checkpoint(path)
    except CheckpointError:
        return
    # Some flips land in padding or unchecked bytes; then the model must still be a working model.
    assert loaded.build_model()(torch.rand(1, 1, 28, 28)).reconstruction.shape == (1, 1, 28, 28)


@FUZZ
@given(text=st.text(max_size=30))
def test_typed_in_hyperparameters_either_parse_or_give_a_clear_message(text):
    for parse, build in ((parse_int, lambda v: TrainConfig(epochs=v)), (parse_float, lambda v: TrainConfig(lr=v))):
        try:
            build(parse("Field", text))
        except ConfigError as exc:
            assert str(exc)


def test_a_checkpoint_is_a_zip_archive():
    buffer = io.BytesIO()
    torch.save({"a": torch.zeros(1)}, buffer)
    assert zipfile.is_zipfile(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("text", ["1\x1f", "128\x1c", "\x1e0.5", "1\x00"])
def test_invisible_control_characters_are_refused_not_silently_dropped(text):
    """A pasted "1<unit separator>" shows as "1" but is not the number 1: the field says so instead."""
    for parse, label in ((parse_int, "Epochs"), (parse_float, "Learning rate")):
        with pytest.raises(ConfigError, match=label):
            parse(label, text)


@pytest.mark.parametrize("text", [" 128 ", "\t128\n", "128\u00a0"])
def test_ordinary_blanks_around_a_number_are_fine(text):
    assert parse_int("Epochs", text) == 128
    assert parse_float("Learning rate", text) == 128.0
