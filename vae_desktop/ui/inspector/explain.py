"""The inspector's words: section captions and the "How it learns" note, filled with the numbers on screen.

Kept apart from the widgets so the wording can be read (and reviewed) in one place.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from vae_desktop.core.inspection import DimensionActivity, ImageInspection, Typicality
from vae_desktop.ui.inspector import style
from vae_desktop.ui.inspector.roles import OutputRoles

NO_MODEL = (
    "<h3>No model yet</h3>"
    "<p>Start training or open a checkpoint (.vaeckpt). This panel then follows one image through the "
    "encoder: its 2&nbsp;×&nbsp;z_dim raw outputs, how they become a mean and a standard deviation, "
    "the random sample the decoder sees, and the two losses that shape them.</p>"
)
NO_DATASET = "<h3>No dataset loaded</h3><p>Choose a dataset to pick images to inspect.</p>"


def raw_caption(roles: OutputRoles) -> str:
    z_dim, n = roles.z_dim, 2 * roles.z_dim
    mean_at = "out[:, d]" if roles.mean_first else f"out[:, {z_dim} + d]"
    spread_at = f"out[:, {z_dim} + d]" if roles.mean_first else "out[:, d]"
    return (
        f"The encoder's last layer is a plain Linear layer with 2&nbsp;×&nbsp;z_dim = {n} outputs, drawn here in the "
        f"order it emits them. The code then uses "
        f"{style.swatch(style.MEAN, f'outputs {roles.mean_outputs} as the mean μ')} and "
        f"{style.swatch(style.LOG_STD, f'outputs {roles.spread_outputs} as {roles.spread_words}')}: "
        f"<code>{roles.split_code()}</code>. Dimensions are numbered from 0, as in the code: "
        f"dimension d is μ = <code>{mean_at}</code> and {roles.spread} = <code>{spread_at}</code>."
    )


def exp_title(roles: OutputRoles) -> str:
    """Section ②'s title: what makes the spread output a positive stddev (or, raw, fails to)."""
    if roles.stddev == "exp":
        return "② exp turns any number into a positive stddev"
    if roles.stddev == "softplus":
        return "② softplus turns any number into a positive stddev"
    return "② raw: the output is used as the stddev, with nothing to keep it positive"


def exp_caption(roles: OutputRoles | None = None) -> str:
    roles = roles or OutputRoles(1)
    half, s = roles.spread_half, roles.spread
    if roles.stddev == "raw":
        return (
            f"A stddev must be positive, but the layer can output any number, and this run uses the {half} half "
            f"as σ directly: {style.swatch(style.LOG_STD, 'σ')} (left bar) and {style.swatch(style.STD, 'σ')} "
            f"(right bar) are the same number. The first σ ≤ 0 has no Normal distribution: training stops at "
            f"that step. That is why the default model outputs log σ and takes exp."
        )
    if roles.stddev == "softplus":
        return (
            f"A stddev must be positive, but the layer can output any number. So the {half} half goes through "
            f"<code>softplus</code>: {style.swatch(style.LOG_STD, 's')} (left bar of each pair, any sign) becomes "
            f"{style.swatch(style.STD, 'σ = softplus(s) = log(1 + eˢ)')} (right bar, always above zero). Very "
            f"negative s gives σ near 0, a confident dimension; s ≈ 0.54 gives σ = 1, the prior's width."
        )
    return (
        f"A stddev must be positive, but the layer can output any number. So the {half} half goes through "
        f"<code>exp</code>: {style.swatch(style.LOG_STD, s)} (left bar of each pair, any sign) becomes "
        f"{style.swatch(style.STD, roles.sigma_formula)} (right bar, always above zero). Negative log σ gives "
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
    result: ImageInspection | None, activity: DimensionActivity | None, stage: Stage | None = None,
    roles: OutputRoles | None = None,
) -> str:
    """The note, with a live example from the shown image when there is one."""
    roles = roles or OutputRoles(result.z_dim if result is not None else 1)
    m_half, s_half, s = roles.mean_half, roles.spread_half, roles.spread
    sigma = {"exp": "exp(log σ)", "softplus": "softplus(s)"}.get(roles.stddev, "σ")
    becomes = {"exp": "a log-stddev", "softplus": "a spread (softplus of it is σ)"}.get(roles.stddev, "a stddev")
    swapped = ("Swap the two halves in the code (the Swap the halves experiment does) and the same network learns "
               "the roles the other way round." if roles.mean_first else
               "This run uses them the other way round from the default (the Swap the halves experiment), and "
               "the network learned the roles the other way round: the roles come from the use.")
    text = (
        "<p><b>Nobody tells the network which half is the mean.</b> Its last layer is an ordinary Linear layer; "
        f"all its outputs are alike. The roles come from the code that <i>uses</i> them: the loss takes the {m_half} "
        f"half as μ and the {s_half} as {s}, builds z = μ + {sigma}·ε with <code>rsample</code>, decodes z, and "
        "adds the KL of N(μ, σ) from N(0, 1).</p>"
        f"<p>Backpropagation then sends each output the gradient of <i>that</i> use (section ⑥ shows it). An output "
        f"in the {m_half} half moves z one-for-one, so it is pushed to where the decoder reconstructs the image best, "
        f"while the KL pulls it toward 0: it becomes a mean. An output in the {s_half} half only scales the noise, so "
        f"reconstruction pushes it down (less noise, sharper images) and KL pushes σ back toward 1: it becomes "
        f"{becomes}. {swapped}</p>"
    )
    if result is None:
        return text
    d = _example_dimension(result)
    mean, log_std, std = result.mean[d], result.log_std[d], result.std[d]
    how = {"exp": f"so σ = exp({log_std:+.3f}) = ", "softplus": f"so σ = softplus({log_std:+.3f}) = "}.get(
        roles.stddev, "used as σ = ")
    example = (
        f"<p><b>On screen now, dimension {d}</b> (the one with the most KL for this image): output "
        f"{roles.mean_index(d)} = <b style='color:{style.ink(style.MEAN)}'>{mean:+.3f}</b> is its mean, output "
        f"{roles.spread_index(d)} = <b style='color:{style.ink(style.LOG_STD)}'>{log_std:+.3f}</b> is its {s}, {how}"
        f"<b style='color:{style.ink(style.STD)}'>{std:.3g}</b>"
    )
    if std < 0.5:
        example += (
            f", much narrower than the prior's 1: reconstruction made this dimension precise because it "
            f"carries information about the image (KL {result.kl_per_dim[d]:.2f} nats).</p>"
        )
    else:
        example += f"; KL {result.kl_per_dim[d]:.2f} nats.</p>"
    if activity is not None and len(activity.kl_per_dim) == result.z_dim and activity.inactive_count:
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
