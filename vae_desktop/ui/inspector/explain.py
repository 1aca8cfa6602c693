"""The inspector's words: section captions and the "How it learns" note, filled with the numbers on screen.

Kept apart from the widgets so the wording can be read (and reviewed) in one place.
"""

from __future__ import annotations

import html

import numpy as np

from vae_desktop.core.inspection import DimensionActivity, ImageInspection
from vae_desktop.ui.inspector import style

NO_MODEL = (
    "<h3>No model yet</h3>"
    "<p>Start training or open a checkpoint (.vaeckpt). This panel then follows one image through the "
    "encoder: its 2&nbsp;×&nbsp;z_dim raw outputs, how they become a mean and a standard deviation, "
    "the random sample the decoder sees, and the two losses that shape them.</p>"
)
NO_DATASET = "<h3>No dataset loaded</h3><p>Choose a dataset to pick images to inspect.</p>"


def raw_caption(z_dim: int) -> str:
    n = 2 * z_dim
    return (
        f"The encoder's last layer is a plain Linear layer with 2&nbsp;×&nbsp;z_dim = {n} outputs, drawn here in the "
        f"order it emits them. The code then reads "
        f"{style.swatch(style.MEAN, f'outputs 0–{z_dim - 1} as the mean μ')} and "
        f"{style.swatch(style.LOG_STD, f'outputs {z_dim}–{n - 1} as the log-stddev log σ')} "
        f"(<code>mean, log_std = out[:, :{z_dim}], out[:, {z_dim}:]</code>)."
    )


EXP_CAPTION = (
    f"A stddev must be positive, but the layer can output any number. So the second half goes through "
    f"<code>exp</code>: {style.swatch(style.LOG_STD, 'log σ')} (left bar of each pair, any sign) becomes "
    f"{style.swatch(style.STD, 'σ = exp(log σ)')} (right bar, always above zero). Negative log σ gives "
    f"σ below 1, a confident dimension; log σ near 0 gives σ near 1, the prior's width."
)

SAMPLE_CAPTION = (
    f"The decoder never sees μ and σ directly during training: it sees a sample "
    f"{style.swatch(style.SAMPLE, 'z = μ + σ·ε')} with {style.swatch(style.EPS, 'ε ~ N(0, 1)')} drawn fresh "
    f"(<code>rsample</code>). Dots are {style.swatch(style.MEAN, 'μ')}, bars span "
    f"{style.swatch(style.STD, 'μ ± σ')}, diamonds are {style.swatch(style.SAMPLE, 'z')}; the grey band is the "
    f"prior N(0, 1)'s ±1. Because ε comes from outside, z is a smooth function of μ and σ and gradients reach both."
)

HEATMAP_CAPTION = (
    "Each row is one finished epoch, each column one latent dimension, coloured by that dimension's KL averaged "
    "over the test set. Watch dimensions switch on (turn bright) as the model learns to use them; columns that "
    "stay dark are dimensions the model leaves unused."
)


def loss_summary(result: ImageInspection) -> str:
    """Rich text: reconstruction + KL = this image's loss, with the direction each force pulls."""
    kind = "Bernoulli" if result.recon_loss == "bernoulli" else "Gaussian"
    return (
        f"<table cellspacing='0' cellpadding='3'><tr>"
        f"<td align='center'><span style='font-size:18px;color:{style.RECON}'><b>{result.recon_of_sample:.2f}</b></span>"
        f"<br>reconstruction<br><small>−log p(x | z), {kind}</small></td>"
        f"<td align='center' style='font-size:18px'>&nbsp;+&nbsp;</td>"
        f"<td align='center'><span style='font-size:18px;color:{style.KL}'><b>{result.kl:.2f}</b></span>"
        f"<br>KL(q(z|x) ‖ N(0, I))<br><small>sum of the bars below</small></td>"
        f"<td align='center' style='font-size:18px'>&nbsp;=&nbsp;</td>"
        f"<td align='center'><span style='font-size:18px'><b>{result.negative_elbo:.2f}</b></span>"
        f"<br>nats: this image's loss<br><small>with the sample z shown above</small></td>"
        f"</tr></table>"
        f"<p><b style='color:{style.RECON}'>Reconstruction</b> wants σ small and the μ of different images far "
        f"apart, so the decoder can tell them apart (decoding μ instead of z: {result.recon_of_mean:.2f} nats). "
        f"<b style='color:{style.KL}'>KL</b> pulls every μ toward 0 and every σ toward 1, the prior. Training "
        f"minimises their sum.</p>"
    )


def activity_summary(activity: DimensionActivity | None, z_dim: int) -> str:
    if activity is None or len(activity.kl_per_dim) != z_dim:
        return "Test-set activity: not available for this dataset and model."
    count = activity.inactive_count
    where = f"over {activity.num_images:,} test images"
    if count == 0:
        return (
            f"All {z_dim} dimensions are <b>active</b>: each has mean KL ≥ {activity.threshold:g} nats {where} "
            f"(black ticks)."
        )
    dims = np.flatnonzero(activity.inactive)
    listed = ", ".join(str(d) for d in dims[:12]) + (" …" if len(dims) > 12 else "")
    return (
        f"<b style='color:{style.INACTIVE_TEXT}'>{count} of {z_dim} dimensions inactive</b> (grey, ×): mean KL below "
        f"{activity.threshold:g} nats {where} (black ticks). Dimension{'s' if count > 1 else ''} {listed}: "
        f"μ ≈ 0 and σ ≈ 1 for every image, so {'they carry' if count > 1 else 'it carries'} no information about "
        f"the image. This is <i>posterior collapse</i>; the KL force won there."
    )


def _example_dimension(result: ImageInspection) -> int:
    """The dimension with the most KL for this image: the clearest example of a learned role."""
    return int(np.argmax(result.kl_per_dim))


def how_it_learns(result: ImageInspection | None, activity: DimensionActivity | None) -> str:
    """The note, with a live example from the shown image when there is one."""
    text = (
        "<p><b>Nobody tells the network which half is the mean.</b> Its last layer is an ordinary Linear layer; "
        "all its outputs are alike. The roles come from the code that <i>uses</i> them: the loss takes the first "
        "half as μ and the second as log σ, builds z = μ + exp(log σ)·ε with <code>rsample</code>, decodes z, and "
        "adds the KL of N(μ, σ) from N(0, 1).</p>"
        "<p>Backpropagation then sends each output the gradient of <i>that</i> use. An output in the first half "
        "moves z one-for-one, so it is pushed to where the decoder reconstructs the image best, while the KL pulls "
        "it toward 0: it becomes a mean. An output in the second half only scales the noise, so reconstruction "
        "pushes it down (less noise, sharper images) and KL pushes σ back toward 1: it becomes a log-stddev. "
        "Swap the two halves in the code and the same network would learn the roles the other way round.</p>"
    )
    if result is None:
        return text
    d = _example_dimension(result)
    z_dim = result.z_dim
    mean, log_std, std = result.mean[d], result.log_std[d], result.std[d]
    example = (
        f"<p><b>On screen now, dimension {d}</b> (the one with the most KL for this image): output {d} = "
        f"<b style='color:{style.MEAN}'>{mean:+.3f}</b> is its mean, output {z_dim + d} = "
        f"<b style='color:{style.LOG_STD}'>{log_std:+.3f}</b> is its log-stddev, so σ = exp({log_std:+.3f}) = "
        f"<b style='color:{style.STD}'>{std:.3g}</b>"
    )
    if std < 0.5:
        example += (
            f", much narrower than the prior's 1: reconstruction made this dimension precise because it "
            f"carries information about the image (KL {result.kl_per_dim[d]:.2f} nats).</p>"
        )
    else:
        example += f"; KL {result.kl_per_dim[d]:.2f} nats.</p>"
    if activity is not None and len(activity.kl_per_dim) == z_dim and activity.inactive_count:
        off = int(np.flatnonzero(activity.inactive)[0])
        example += (
            f"<p>Compare dimension {off}, inactive: μ = {result.mean[off]:+.3f}, σ = {result.std[off]:.3g}, "
            f"close to the prior N(0, 1) whatever the image, so the decoder learned to ignore it.</p>"
        )
    return text + example


def source_description(index: int | None, label: str | None) -> str:
    if index is None:
        return "Your image (not from the test set)"
    suffix = f" · {html.escape(label)}" if label else ""
    return f"Test image #{index}{suffix}"
