"""A report folder: everything about one run in files anyone can open, plus an index.html tying them together.

The GUI collects what it shows (plots it rendered, decoded images, the metrics) into a
`ReportContents`; `write_report` encodes every file in memory first, writes them into a hidden
temporary folder and renames it into place at the end, so a failed export never leaves half a
report. Nothing here imports Qt.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.export import (
    gif_bytes,
    json_bytes,
    png_bytes,
    reconstruction_sheet,
    tile_factor,
)
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.metrics_csv import epochs_to_csv

LOSS_PNG = "loss-plots.png"
LOSS_SVG = "loss-plots.svg"
MAP_PNG = "latent-map.png"
MAP_SVG = "latent-map.svg"
MANIFOLD_PNG = "manifold-grid.png"
RECON_PNG = "reconstructions.png"
INTERPOLATION_GIF = "interpolation.gif"
METRICS_CSV = "metrics.csv"
CONFIG_JSON = "config.json"
INDEX_HTML = "index.html"
FOLDER_PREFIX = "vae-report-"


@dataclass(frozen=True)
class ReportContents:
    """What goes into a report; anything None is left out and explained in `notes`."""

    title: str
    config: Mapping[str, Any]
    epochs: Sequence[EpochMetrics]
    rendered: Mapping[str, bytes] = field(default_factory=dict)  # files drawn elsewhere (the GUI's plots)
    manifold: np.ndarray | None = None  # (rows*H, columns*W[, 3]) in [0, 1]
    manifold_tile: int = 28  # height of one manifold tile in pixels
    originals: np.ndarray | None = None  # (N, H, W[, 3]) in [0, 1]
    reconstructions: np.ndarray | None = None
    interpolation: np.ndarray | None = None  # (steps, H, W[, 3]) in [0, 1]
    notes: Sequence[str] = ()


def run_config(
    dataset: str,
    model: ModelConfig,
    train: TrainConfig,
    *,
    epochs_done: int,
    global_step: int,
    device: str,
    versions: Sequence[tuple[str, str]] = (),
    checkpoint: str | None = None,
    checkpoint_step: int | None = None,
) -> dict[str, Any]:
    """The settings that reproduce the run (`vae-desktop train` accepts the same values) and where it stands.

    `checkpoint` is named only when it holds this very state (`checkpoint_step`, the step it was
    saved at, equals `global_step`); a file saved earlier is listed as `older_checkpoint` with its
    step, so nobody takes it for the model the report shows."""
    config: dict[str, Any] = {
        "dataset": dataset,
        "model": model.to_dict(),
        "training": train.to_dict(),
        "progress": {"epochs_done": epochs_done, "global_step": global_step},
        "device": device,
        "checkpoint": checkpoint,
        "software": dict(versions),
    }
    if checkpoint is not None and checkpoint_step is not None and checkpoint_step != global_step:
        config["checkpoint"] = None
        config["older_checkpoint"] = {"path": checkpoint, "global_step": checkpoint_step}
    return config


def report_files(contents: ReportContents) -> dict[str, bytes]:
    """Every file of the report, encoded (index.html last, since it lists the others)."""
    files = dict(contents.rendered)
    if contents.manifold is not None:
        files[MANIFOLD_PNG] = png_bytes(contents.manifold, tile_factor(contents.manifold_tile, 56))
    if contents.originals is not None and contents.reconstructions is not None and len(contents.originals):
        sheet = reconstruction_sheet(contents.originals, contents.reconstructions)
        files[RECON_PNG] = png_bytes(sheet, tile_factor(contents.originals.shape[1]))
    if contents.interpolation is not None and len(contents.interpolation):
        files[INTERPOLATION_GIF] = gif_bytes(contents.interpolation, tile_factor(contents.interpolation.shape[1]))
    files[METRICS_CSV] = epochs_to_csv(contents.epochs).encode("utf-8")
    files[CONFIG_JSON] = json_bytes(contents.config)
    files[INDEX_HTML] = index_html(contents, sorted(files)).encode("utf-8")
    return files


def folder_name(stamp: datetime) -> str:
    return f"{FOLDER_PREFIX}{stamp:%Y-%m-%d_%H-%M-%S}"


def write_report(parent: str | os.PathLike[str], contents: ReportContents, stamp: datetime | None = None) -> Path:
    """Write the report into a new folder under `parent` and return that folder.

    The folder appears complete or not at all: files go into a hidden temporary folder that is
    renamed at the end. An existing folder is never overwritten (a suffix makes the name unique).
    """
    files = report_files(contents)  # encode first: an encoding error touches no disk
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    name = folder_name(stamp or datetime.now())
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=parent))
    try:
        for file_name, data in files.items():
            (staging / file_name).write_bytes(data)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; a shared report should look normal
        target = _unique(parent / name)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _unique(path: Path) -> Path:
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{n}")
        n += 1
    return candidate


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def index_html(contents: ReportContents, file_names: Sequence[str]) -> str:
    """A self-contained page: the run's settings, its final numbers, every picture, links to the data."""
    e = html.escape
    present = set(file_names)
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(contents.title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "img{max-width:100%;image-rendering:pixelated;border:1px solid #ccc}"
        "table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:right}"
        "th:first-child,td:first-child{text-align:left}.muted{color:#777}</style></head><body>",
        f"<h1>{e(contents.title)}</h1>",
    ]
    if contents.epochs:
        last = contents.epochs[-1]
        parts.append(
            f"<p>After epoch {last.epoch}, on the test set (nats per image): reconstruction "
            f"<b>{last.test_recon:.2f}</b>, KL <b>{last.test_kl:.2f}</b>, negative ELBO <b>{last.test_total:.2f}</b>.</p>"
        )
    else:
        parts.append("<p class='muted'>No epoch has finished yet.</p>")
    sections = [
        (LOSS_PNG, "Loss curves", LOSS_SVG),
        (MAP_PNG, "Latent map", MAP_SVG),
        (MANIFOLD_PNG, "Manifold: images decoded on a grid over the map", None),
        (RECON_PNG, "Test images (top) and their reconstructions (bottom)", None),
        (INTERPOLATION_GIF, "Interpolation between two handles", None),
    ]
    for image, caption, vector in sections:
        if image in present:
            link = f" (<a href='{vector}'>SVG</a>)" if vector in present else ""
            parts.append(f"<h2>{e(caption)}</h2><p><img src='{image}' alt='{e(caption)}'>{link}</p>")
    if contents.epochs:
        header = "".join(f"<th>{e(h)}</th>" for h in ("epoch", "train recon", "train KL", "test recon", "test KL",
                                                        "test −ELBO"))
        rows = "".join(
            f"<tr><td>{m.epoch}</td><td>{m.train_recon:.3f}</td><td>{m.train_kl:.3f}</td>"
            f"<td>{m.test_recon:.3f}</td><td>{m.test_kl:.3f}</td><td>{m.test_total:.3f}</td></tr>"
            for m in contents.epochs
        )
        parts.append(f"<h2>Metrics per epoch</h2><table><tr>{header}</tr>{rows}</table>")
    parts.append(f"<p>Data: <a href='{METRICS_CSV}'>{METRICS_CSV}</a> · settings: <a href='{CONFIG_JSON}'>"
                 f"{CONFIG_JSON}</a></p>")
    if contents.notes:
        parts.append("<p class='muted'>" + "<br>".join(e(note) for note in contents.notes) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
