import subprocess
import sys

import numpy as np
import pytest
import torch

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets.base import to_float
from vae_desktop.core.evaluation import evaluate_model
from vae_desktop.core.inspection import (
    ACTIVE_UNIT_VARIANCE,
    INACTIVE_KL_NATS,
    EpsilonSource,
    ImageShapeError,
    KlHistory,
    activity_from_kl,
    dimension_activity,
    inspect_image,
    negative_elbo_per_image,
    reference_losses,
    typicality,
)
from vae_desktop.core.losses import kl_nats, reconstruction_nats
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.model import VAE
from vae_desktop.core.trainer import Trainer


def _epoch(epoch: int, kl_per_dim) -> EpochMetrics:
    kl = float(sum(kl_per_dim))
    return EpochMetrics(epoch, 90.0, kl, 90.0 + kl, 91.0, kl, 91.0 + kl, 1000.0, 1.0, tuple(kl_per_dim))


@pytest.fixture
def image(small_shapes) -> torch.Tensor:
    return small_shapes.test_images[3]


def test_inspection_follows_the_encoder_step_by_step(tiny_model, image):
    eps = EpsilonSource(seed=5).draw(tiny_model.z_dim)
    result = inspect_image(tiny_model, image, eps)
    x = to_float(image.unsqueeze(0))
    raw = tiny_model.encoder_output(x)[0].detach().numpy()
    mean, std = (t[0].detach().numpy() for t in tiny_model.encode(x))
    z_dim = tiny_model.z_dim

    np.testing.assert_allclose(result.raw, raw, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result.mean, raw[:z_dim], rtol=1e-6)
    np.testing.assert_allclose(result.log_std, raw[z_dim:], rtol=1e-6)
    np.testing.assert_allclose(result.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(result.std, std, rtol=1e-6)
    np.testing.assert_allclose(result.std, np.exp(result.log_std), rtol=1e-6)
    assert (result.std > 0).all()
    np.testing.assert_array_equal(result.eps, eps)
    np.testing.assert_allclose(result.z, result.mean + result.std * eps, rtol=1e-6, atol=1e-6)


def test_decoded_images_and_losses_match_the_model(tiny_model, image):
    eps = EpsilonSource(seed=1).draw(tiny_model.z_dim)
    result = inspect_image(tiny_model, image, eps)
    x = to_float(image.unsqueeze(0))
    z = torch.from_numpy(result.z).unsqueeze(0)
    mean = torch.from_numpy(result.mean).unsqueeze(0)
    with torch.no_grad():
        np.testing.assert_allclose(result.decoded_sample, tiny_model.decode(z)[0, 0].numpy(), atol=1e-6)
        np.testing.assert_allclose(result.decoded_mean, tiny_model.decode(mean)[0, 0].numpy(), atol=1e-6)
        recon = reconstruction_nats(tiny_model.decode_logits(z), x)[0].item()
        kl = kl_nats(tiny_model.posterior(x))[0].item()
    assert result.recon_of_sample == pytest.approx(recon, rel=1e-5)
    assert result.kl == pytest.approx(kl, rel=1e-5)
    assert result.negative_elbo == pytest.approx(recon + kl, rel=1e-5)
    assert result.image.shape == (28, 28) and result.decoded_mean.shape == (28, 28)
    np.testing.assert_allclose(result.image, image[0].numpy() / 255.0, atol=1e-7)


def test_per_dimension_kl_is_the_closed_form_and_sums_to_the_image_kl(tiny_model, image):
    result = inspect_image(tiny_model, image, np.zeros(tiny_model.z_dim, np.float32))
    mu, s = result.mean.astype(np.float64), result.std.astype(np.float64)
    closed_form = 0.5 * (mu**2 + s**2) - np.log(s) - 0.5  # KL(N(mu, s) || N(0, 1)) with a log-stddev
    np.testing.assert_allclose(result.kl_per_dim, closed_form, rtol=1e-4, atol=1e-6)
    assert (result.kl_per_dim >= 0).all()
    assert result.kl_per_dim.sum() == pytest.approx(result.kl, rel=1e-6)


def test_zero_noise_sample_is_the_mean(tiny_model, image):
    result = inspect_image(tiny_model, image, np.zeros(tiny_model.z_dim, np.float32))
    np.testing.assert_allclose(result.z, result.mean)
    np.testing.assert_allclose(result.decoded_sample, result.decoded_mean)
    assert result.recon_of_sample == pytest.approx(result.recon_of_mean)


def test_gaussian_reconstruction_loss_is_used_when_asked(tiny_model, image):
    eps = np.zeros(tiny_model.z_dim, np.float32)
    bern = inspect_image(tiny_model, image, eps, "bernoulli")
    gauss = inspect_image(tiny_model, image, eps, "gaussian")
    x = to_float(image.unsqueeze(0))
    with torch.no_grad():
        expected = reconstruction_nats(tiny_model.decode_logits(torch.from_numpy(gauss.z)[None]), x, "gaussian")
    assert gauss.recon_of_sample == pytest.approx(expected.item(), rel=1e-5)
    assert gauss.recon_of_sample != pytest.approx(bern.recon_of_sample)


def test_epsilon_source_never_moves_the_global_rng(tiny_model, image):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    source = EpsilonSource(seed=0)
    first, second = source.draw(8), source.draw(8)
    inspect_image(tiny_model, image, source.draw(tiny_model.z_dim))
    assert torch.equal(torch.get_rng_state(), before)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(EpsilonSource(seed=0).draw(8), first)  # reproducible from the seed


def test_inspection_leaves_training_mode_as_it_was(tiny_model, image):
    tiny_model.train()
    inspect_image(tiny_model, image, np.zeros(tiny_model.z_dim, np.float32))
    assert tiny_model.training


@pytest.mark.parametrize("z_dim", [1, 256])
def test_smallest_and_largest_latent_sizes(z_dim, image):
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=z_dim, base_width=8, hidden=32))
    result = inspect_image(model, image, EpsilonSource().draw(z_dim))
    assert result.raw.shape == (2 * z_dim,)
    assert result.mean.shape == result.std.shape == result.z.shape == result.kl_per_dim.shape == (z_dim,)


def test_wrong_image_shape_or_dtype_is_a_clear_error(tiny_model):
    with pytest.raises(ImageShapeError, match=r"1-channel 28x28.*\(3, 32, 32\)"):
        inspect_image(tiny_model, np.zeros((3, 32, 32), np.uint8), np.zeros(4, np.float32))
    with pytest.raises(ImageShapeError, match="uint8"):
        inspect_image(tiny_model, np.zeros((1, 28, 28), np.float32), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="eps"):
        inspect_image(tiny_model, np.zeros((1, 28, 28), np.uint8), np.zeros(3, np.float32))


def test_dimension_activity_matches_the_trainers_test_kl(tiny_model, small_shapes):
    images = small_shapes.test_images[:200]
    activity = dimension_activity(tiny_model, images, batch=64)
    evaluation = evaluate_model(tiny_model, images)
    np.testing.assert_allclose(activity.kl_per_dim, evaluation.kl_per_dim, rtol=1e-5)
    assert activity.num_images == 200
    limited = dimension_activity(tiny_model, small_shapes.test_images, max_images=50)
    assert limited.num_images == 50


def test_a_collapsed_dimension_is_marked_inactive(tiny_model, small_shapes):
    # Make dimension 2 ignore the input and output mean 0, log-stddev 0: its posterior is the prior.
    last = tiny_model.encoder.net[-1]
    z_dim = tiny_model.z_dim
    with torch.no_grad():
        for row in (2, z_dim + 2):
            last.weight[row].zero_()
            last.bias[row] = 0.0
    activity = dimension_activity(tiny_model, small_shapes.test_images[:100])
    assert activity.kl_per_dim[2] == pytest.approx(0.0, abs=1e-7)
    assert activity.inactive[2]
    assert activity.inactive_count == int((activity.kl_per_dim < INACTIVE_KL_NATS).sum())
    assert activity.active_count + activity.inactive_count == z_dim


def test_active_units_count_the_dimensions_whose_mean_varies_over_the_data(tiny_model, small_shapes):
    """Burda et al. 2015: active when Var_x(E[z_d | x]) > 0.01. The encoder's last layer is set so the
    variance of each posterior mean is known exactly: 1, 0.0025, 0.04 and 0."""
    images = small_shapes.test_images[:300]
    hidden = tiny_model.encoder.net[:-1](to_float(images)).detach().double()  # the last layer's input
    unit = int(hidden.var(0, unbiased=False).argmax())
    spread = float(hidden[:, unit].std(unbiased=False))
    last, z_dim = tiny_model.encoder.net[-1], tiny_model.z_dim
    with torch.no_grad():
        last.weight[:z_dim].zero_()
        last.bias[:z_dim] = 0.3  # an offset moves the mean, not its variance
        for dim, std in ((0, 1.0), (1, 0.05), (2, 0.2)):  # dimension 3: a constant mean
            last.weight[dim, unit] = std / spread
    activity = dimension_activity(tiny_model, images)
    np.testing.assert_allclose(activity.mean_variance, [1.0, 0.0025, 0.04, 0.0], rtol=1e-4, atol=1e-9)
    assert activity.unit_threshold == ACTIVE_UNIT_VARIANCE == 0.01
    np.testing.assert_array_equal(activity.active_units, [True, False, True, False])
    assert activity.active_unit_count == 2
    assert activity_from_kl((0.5, 0.0)).active_units is None  # epoch KL alone says nothing about means


def test_an_image_unlike_the_training_data_is_off_the_data_and_test_images_are_not(small_shapes):
    """Shapes are white on black: after a little training, a photo-like white background stands out."""
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=4, base_width=8, hidden=64))
    for _ in Trainer(model, small_shapes, TrainConfig(epochs=1, batch_size=50, lr=2e-3, device="cpu")).run():
        pass
    reference = reference_losses(model, small_shapes.test_images, max_images=400)
    assert reference.shape == (400,)
    np.testing.assert_allclose(reference, negative_elbo_per_image(model, small_shapes.test_images[:400]), rtol=1e-6)
    for index in (400, 450, 499):  # test images the yardstick did not include
        assert not typicality(model, small_shapes.test_images[index], reference).off_data
    white = np.full((1, 28, 28), 255, np.uint8)
    white[0, 9:19, 9:19] = 0  # a black square on white: the inverse of the data
    verdict = typicality(model, white, reference)
    assert verdict.off_data and verdict.value > verdict.highest > verdict.high > verdict.median
    assert verdict.count == 400


def test_the_negative_elbo_of_an_image_is_reconstruction_of_the_mean_plus_kl(tiny_model, image):
    x = to_float(image.unsqueeze(0))
    mean, std = tiny_model.encode(x)
    expected = reconstruction_nats(tiny_model.decode_logits(mean), x) + kl_nats(torch.distributions.Normal(mean, std))
    value = negative_elbo_per_image(tiny_model, image.unsqueeze(0))
    np.testing.assert_allclose(value, expected.detach().numpy(), rtol=1e-6)


def test_activity_from_epoch_kl_counts_dimensions_below_the_threshold():
    activity = activity_from_kl((0.5, 0.001, 2.0, 0.0), threshold=0.01)
    assert activity.inactive.tolist() == [False, True, False, True]
    assert activity.inactive_count == 2 and activity.active_count == 2


def test_kl_history_gains_a_row_per_epoch_and_restarts_with_a_new_run():
    history = KlHistory()
    assert history.matrix().shape == (0, 0) and history.latest_activity() is None
    history.add(_epoch(1, [0.1, 0.0, 1.0]))
    history.add(_epoch(2, [0.2, 0.0, 1.5]))
    assert history.matrix().shape == (2, 3) and history.epochs == [1, 2]
    np.testing.assert_allclose(history.matrix()[1], [0.2, 0.0, 1.5])
    assert history.latest_activity().inactive.tolist() == [False, True, False]

    history.add(_epoch(1, [0.3, 0.3, 0.3]))  # a new run starts over
    assert history.epochs == [1]
    np.testing.assert_allclose(history.matrix(), [[0.3, 0.3, 0.3]])

    history.add(_epoch(2, [0.1, 0.2]))  # another architecture: old rows no longer line up
    assert history.epochs == [2] and history.z_dim == 2

    assert not history.add(_epoch(3, []))  # nothing per dimension to show
    assert len(history) == 1


def test_kl_history_replace_sorts_by_epoch():
    history = KlHistory()
    history.replace([_epoch(2, [2.0]), _epoch(1, [1.0]), _epoch(3, [3.0])])
    assert history.epochs == [1, 2, 3]
    np.testing.assert_allclose(history.matrix()[:, 0], [1.0, 2.0, 3.0])


def test_inspection_core_never_imports_qt():
    code = "import sys, vae_desktop.core.inspection; print(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
