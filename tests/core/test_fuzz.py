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
from vae_desktop.core.model import VAE

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


def _valid_checkpoint_bytes(tmp_path) -> bytes:
    config = ModelConfig(z_dim=2, base_width=4, hidden=8)
    path = save_checkpoint(Checkpoint(config, TrainConfig(), "shapes", VAE(config).state_dict()), tmp_path / "ok.vaeckpt")
    return path.read_bytes()


@FUZZ
@given(positions=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8), value=st.integers(0, 255))
def test_corrupted_real_checkpoints_fail_cleanly(tmp_path, positions, value):
    data = bytearray(_valid_checkpoint_bytes(tmp_path))
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
