"""The words of the gradient section: what each half of the encoder's output receives, with live numbers.

Separate from explain.py (the other sections' words) so each file stays one topic; the numbers come
from core.gradients.GradientResult, computed off the GUI thread.
"""

from __future__ import annotations

import numpy as np

from vae_desktop.core.gradients import GradientResult
from vae_desktop.ui.inspector import style

SPREAD_NAMES = {"exp": "log σ", "softplus": "s", "raw": "σ"}  # the second half's output, by stddev function
SLOPES = {"exp": "σ", "softplus": "sigmoid(s)", "raw": "1"}  # dσ/d(output): what scales the noise's gradient


def spread_name(stddev: str) -> str:
    return SPREAD_NAMES.get(stddev, "s")


def gradient_caption(stddev: str = "exp") -> str:
    """The section's fixed caption: the formulas, before any number."""
    s, slope = spread_name(stddev), SLOPES.get(stddev, "dσ/ds")
    mean, spread = style.swatch(style.MEAN, "μ"), style.swatch(style.LOG_STD, s)
    kl_spread = "β·(σ² − 1)" if stddev == "exp" else f"β·(σ − 1/σ)·{slope}"
    return (
        f"How the loss rec + β·KL pulls on each output, per latent dimension. On {mean}: ∂rec/∂z in full "
        f"(z = μ + σ·ε moves one-for-one with μ) plus β·μ from the KL. On {spread}: ∂rec/∂z · ε · {slope} "
        f"(it only scales the noise) plus {kl_spread} from the KL. "
        f"{style.swatch(style.RECON, 'Reconstruction part')}, {style.swatch(style.KL, 'KL part')}, "
        "and their sum as a tick; training moves each output against its bar."
    )


def example_dimension(result: GradientResult) -> int:
    """The dimension the story quotes: the one the batch uses most (smallest average σ)."""
    return int(np.argmin(result.batch_std)) if len(result.batch_std) else 0


def gradient_story(result: GradientResult) -> str:
    """Why this makes the halves a mean and a spread, told with this image's and the batch's numbers."""
    d = example_dimension(result)
    s = spread_name(result.stddev)
    img, avg, beta = result.image, result.batch, result.beta
    mu, sigma, eps = result.mean[d], result.std[d], result.eps[d]
    dz = img.mean_recon[d]  # ∂rec/∂z_d: what μ_d receives in full
    slope = {"exp": sigma, "raw": 1.0}.get(result.stddev)
    scaled = (f"∂rec/∂z{d} · ε{d} · σ{d} = {dz:+.3g} × {eps:+.2f} × {sigma:.3g} = {img.spread_recon[d]:+.3g}"
              if slope is not None and result.stddev == "exp" else
              f"∂rec/∂z{d} · ε{d} · dσ/d{s} = {img.spread_recon[d]:+.3g}")
    kl_form = f"β·(σ{d}² − 1)" if result.stddev == "exp" else f"β·(σ{d} − 1/σ{d})·dσ/d{s}"
    balance = avg.spread_recon[d] + avg.spread_kl[d]
    first, second = ("first", "second") if result.layout == "mean-first" else ("second", "first")
    return (
        f"<b>Dimension {d}</b> (β = {beta:g}). The mean output μ{d} = {mu:+.3f} receives the reconstruction "
        f"gradient ∂rec/∂z{d} = {dz:+.3g} in full, because z{d} = μ{d} + σ{d}·ε{d} moves one-for-one with it; "
        f"its KL part β·μ{d} = {img.mean_kl[d]:+.3g} pulls it toward 0. "
        f"The {s} output only scales the noise: its reconstruction part is {scaled}, proportional to how "
        f"much σ{d} scales ε{d} and carrying ε{d}'s sign (draw ε again and it changes), while its KL part {kl_form} = "
        f"{img.spread_kl[d]:+.3g} pulls σ{d} back toward 1.<br><br>"
        f"Averaged over {result.batch_size} test images: {s}{d} gets {avg.spread_recon[d]:+.3g} from reconstruction "
        f"(noise makes reconstructions worse: it pushes σ{d} down) against {avg.spread_kl[d]:+.3g} from the KL "
        f"(toward σ = 1), a net {balance:+.3g}; μ{d} gets {avg.mean_recon[d]:+.3g} and {avg.mean_kl[d]:+.3g}. "
        "Where the two parts cancel, σ stops changing.<br><br>"
        f"Nothing labels the outputs: the {first} half is used where it moves z and the {second} where it only "
        "scales the noise, and the gradients that use gives them make one a mean and the other a spread."
    )
