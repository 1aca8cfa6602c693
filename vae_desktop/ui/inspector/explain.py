"""The inspector's words: section captions and the "How it learns" note, filled with the numbers on screen.

Kept apart from the widgets so the wording can be read (and reviewed) in one place.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from vae_desktop.core.inspection import DimensionActivity, ImageInspection, Typicality
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
        f"order it emits them. The code then uses "
        f"{style.swatch(style.MEAN, f'outputs 0–{z_dim - 1} as the mean μ')} and "
        f"{style.swatch(style.LOG_STD, f'outputs {z_dim}–{n - 1} as the log-stddev log σ')}: "
        f"<code>{split_code(z_dim)}</code>. Dimensions are numbered from 0, as in the code: "
        f"dimension d is μ = <code>out[:, d]</code> and log σ = <code>out[:, {z_dim} + d]</code>."
    )


def split_code(z_dim: int) -> str:
    """The line of code that gives the two halves their roles."""
    return f"mean, log_std = out[:, :{z_dim}], out[:, {z_dim}:]"


def exp_caption() -> str:
    return (
        f"A stddev must be positive, but the layer can output any number. So the second half goes through "
        f"<code>exp</code>: {style.swatch(style.LOG_STD, 'log σ')} (left bar of each pair, any sign) becomes "
        f"{style.swatch(style.STD, 'σ = exp(log σ)')} (right bar, always above zero). Negative log σ gives "
        f"σ below 1, a confident dimension; log σ near 0 gives σ near 1, the prior's width."
    )


def sample_caption() -> str:
    return (
        f"The decoder never sees μ and σ directly during training: it sees a sample "
        f"{style.swatch(style.SAMPLE, 'z = μ + σ·ε')} with {style.swatch(style.EPS, 'ε ~ N(0, 1)')} drawn fresh "
        f"(<code>rsample</code>). Dots are {style.swatch(style.MEAN, 'μ')}, bars span "
        f"{style.swatch(style.STD, 'μ ± σ')}, diamonds are {style.swatch(style.SAMPLE, 'z')}; the grey band is the "
        f"prior N(0, 1)'s ±1. Because ε comes from outside, z is a smooth function of μ and σ and gradients reach "
        f"both."
    )


def kl_caption() -> str:
    return (
        f"Bars: this image's {style.swatch(style.KL, 'KL per dimension')} (they add up to the KL above). "
        "Short ticks: the same averaged over the test set."
    )


HEATMAP_CAPTION = (
    "Each row is one finished epoch, each column one latent dimension, coloured by that dimension's KL averaged "
    "over the test set. Watch dimensions switch on (turn bright) as the model learns to use them; columns that "
    "stay dark are dimensions the model has not used so far."
)


def loss_summary(result: ImageInspection) -> str:
    """Rich text: reconstruction + KL = this image's loss, with the direction each force pulls."""
    kind = "Bernoulli" if result.recon_loss == "bernoulli" else "Gaussian"
    recon, kl = style.ink(style.RECON), style.ink(style.KL)
    return (
        f"<table cellspacing='0' cellpadding='3'><tr>"
        f"<td align='center'><span style='font-size:18px;color:{recon}'><b>{result.recon_of_sample:.2f}</b></span>"
        f"<br>reconstruction<br><small>−log p(x | z), {kind}</small></td>"
        f"<td align='center' style='font-size:18px'>&nbsp;+&nbsp;</td>"
        f"<td align='center'><span style='font-size:18px;color:{kl}'><b>{result.kl:.2f}</b></span>"
        f"<br>KL(q(z|x) ‖ N(0, I))<br><small>sum of the bars below</small></td>"
        f"<td align='center' style='font-size:18px'>&nbsp;=&nbsp;</td>"
        f"<td align='center'><span style='font-size:18px'><b>{result.negative_elbo:.2f}</b></span>"
        f"<br>nats: this image's loss<br><small>with the sample z shown above</small></td>"
        f"</tr></table>"
        f"<p><b style='color:{recon}'>Reconstruction</b> wants σ small and the μ of different images far "
        f"apart, so the decoder can tell them apart (decoding μ instead of z: {result.recon_of_mean:.2f} nats). "
        f"<b style='color:{kl}'>KL</b> pulls every μ toward 0 and every σ toward 1, the prior. Training "
        f"minimises their sum.</p>"
    )


@dataclass(frozen=True)
class Stage:
    """How far the run is: finished epochs and the epochs it was started for (None: not known)."""

    done: int = 0
    planned: int | None = None

    @property
    def so_far(self) -> bool:
        """True while training may still change the picture (fewer epochs done than planned)."""
        return self.planned is None or self.done < self.planned

    def words(self) -> str:
        """ "so far (after epoch 3 of 10)", "after 10 epochs", … for sentences about activity."""
        if self.planned is None:
            return f"after {self.done} epoch{'s' if self.done != 1 else ''}" if self.done else "so far"
        if self.done >= self.planned:
            return f"after all {self.done} epochs"
        if self.done == 0:
            return f"so far (epoch 1 of {self.planned} has not finished)"
        return f"so far (after epoch {self.done} of {self.planned})"


def _listed(dims: np.ndarray) -> str:
    return ", ".join(str(d) for d in dims[:12]) + (" …" if len(dims) > 12 else "")


def activity_rule(activity: DimensionActivity) -> str:
    """The exact rules, in words, with their thresholds."""
    return (
        f"<i>Inactive</i> means: the dimension's KL to the prior, averaged over {activity.num_images:,} test "
        f"images, is below {activity.threshold:g} nats, so on average its posterior is almost N(0, 1) and it tells "
        f"the decoder almost nothing (a single image's μ and σ may still differ from 0 and 1 a little). "
        f"<i>Active units</i> (Burda et al. 2015) counts a dimension as active when the variance of its μ over "
        f"the same images exceeds {activity.unit_threshold:g}."
    )


def activity_summary(activity: DimensionActivity | None, z_dim: int, stage: Stage | None = None) -> str:
    if activity is None or len(activity.kl_per_dim) != z_dim:
        return "Test-set activity: not available for this dataset and model."
    stage = stage or Stage()
    count = activity.inactive_count
    unit_count = activity.active_unit_count
    au = f" Active units: <b>{unit_count} of {z_dim}</b>." if unit_count is not None else ""
    disagree = ""
    if activity.active_units is not None:
        mismatch = np.flatnonzero(activity.inactive == activity.active_units)  # inactive by KL yet a unit, or not
        if len(mismatch):
            disagree = f" The two measures disagree on dimension{'s' if len(mismatch) > 1 else ''} {_listed(mismatch)}."
    if count == 0:
        return (
            f"All {z_dim} dimensions are <b>active</b> {stage.words()}: each has mean KL ≥ {activity.threshold:g} "
            f"nats (black ticks).{au}{disagree}<br><small>{activity_rule(activity)}</small>"
        )
    grey = style.ink(style.INACTIVE_TEXT)
    dims = np.flatnonzero(activity.inactive)
    units = activity.active_units
    collapsed = dims if units is None else np.flatnonzero(activity.inactive & ~units)
    if stage.so_far:
        verdict = " The model may still start using them: dimensions often switch on later in training (see ⑤)."
    elif len(collapsed):
        both = "" if units is None else " by both measures"
        verdict = (
            f" Dimension{'s' if len(collapsed) > 1 else ''} {_listed(collapsed)} {'are' if len(collapsed) > 1 else 'is'}"
            f" inactive{both}: <i>posterior collapse</i>, the KL force won there."
        )
    else:
        verdict = " Their means still vary from image to image (active units), so they are weakly used, not collapsed."
    return (
        f"<b style='color:{grey}'>{count} of {z_dim} dimensions inactive {stage.words()}</b> (grey, ×): "
        f"dimension{'s' if count > 1 else ''} {_listed(dims)}.{au}{disagree}{verdict}"
        f"<br><small>{activity_rule(activity)}</small>"
    )


def off_data_note(verdict: Typicality | None) -> str:
    """A warning for an image the model has not learned to encode; empty for one like the data."""
    if verdict is None or not verdict.off_data:
        return ""
    return (
        f"<p style='color:{style.ink(style.SAMPLE)}'><b>This image is unlike the training data.</b> Its loss "
        f"(negative ELBO, noise off) is {verdict.value:,.0f} nats, far above the test images' "
        f"(median {verdict.median:,.0f}, 99% below {verdict.high:,.0f}, highest {verdict.highest:,.0f}, of "
        f"{verdict.count:,}). The model has not learned images like it, so its place on the map and its "
        f"reconstruction say little about it.</p>"
    )


def _example_dimension(result: ImageInspection) -> int:
    """The dimension with the most KL for this image: the clearest example of a learned role."""
    return int(np.argmax(result.kl_per_dim))


def how_it_learns(
    result: ImageInspection | None, activity: DimensionActivity | None, stage: Stage | None = None
) -> str:
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
        f"<b style='color:{style.ink(style.MEAN)}'>{mean:+.3f}</b> is its mean, output {z_dim + d} = "
        f"<b style='color:{style.ink(style.LOG_STD)}'>{log_std:+.3f}</b> is its log-stddev, so σ = exp({log_std:+.3f}) = "
        f"<b style='color:{style.ink(style.STD)}'>{std:.3g}</b>"
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
            f"<p>Compare dimension {off}, inactive {(stage or Stage()).words()}: averaged over the test images its "
            f"KL is {activity.kl_per_dim[off]:.3f} nats, below {activity.threshold:g}. For this image μ = "
            f"{result.mean[off]:+.3f} and σ = {result.std[off]:.3g} (KL {result.kl_per_dim[off]:.2f} nats), but "
            f"over the whole test set its posterior stays close to the prior N(0, 1), so it tells the decoder "
            f"little about which image it is.</p>"
        )
    return text + example


def source_description(index: int | None, label: str | None, name: str | None = None) -> str:
    if index is None:
        return f"{html.escape(name)} (your image, not from the test set)" if name else "Your image (not from the test set)"
    suffix = f" · {html.escape(label)}" if label else ""
    return f"Test image #{index}{suffix}"
