"""Images put onto the latent map: a test image by index, or an image file encoded with the model
and placed as a handle at its posterior mean.

An opened file is also judged against the test images (its loss beside theirs), so the status line
can say when its place on the map means little. The test images' losses are cached per weights
version. Apart from `LatentPanel` because reading, encoding and judging an image is one job of its own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from vae_desktop.core.explorer import ExplorerState, Inspected
from vae_desktop.core.image_file import ImageFileError, read_image_file
from vae_desktop.core.inspection import Typicality, reference_losses, typicality
from vae_desktop.ui.latent.status_line import StatusLine
from vae_desktop.ui.model_mirror import ModelMirror

REFERENCE_IMAGES = 500  # test images whose losses tell whether an opened image is like the data
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.ppm *.pgm)"


class ImageOpening:
    """Turns a test index or a file into an `Inspected` image of `state`; says how it went on `status`."""

    def __init__(self, mirror: ModelMirror, state: ExplorerState, status: StatusLine) -> None:
        self._mirror = mirror
        self._state, self._status = state, status
        self._reference: tuple[int, np.ndarray] | None = None  # (mirror version, test images' losses)

    def forget(self) -> None:
        """A new model: the cached losses belong to the old one."""
        self._reference = None

    def test_image(self, index: int) -> Inspected | None:
        """Test image `index`, or None without a model or a (fitting) dataset, or out of range."""
        dataset = self._mirror.dataset  # None when it does not fit the model: the mirror refuses that pair
        if dataset is None or self._mirror.model is None or not 0 <= index < dataset.num_test:
            return None
        label = int(dataset.test_labels[index])
        name = dataset.class_names[label] if label < len(dataset.class_names) else f"class {label}"
        source = f"Test image #{index}"
        return Inspected(f"{source} · {name}", source, dataset.test_images[index].numpy(), index)

    def inspect_test_image(self, index: int) -> None:
        """Inspect test image `index`: its reconstruction and posterior ellipse (nothing when unavailable)."""
        inspected = self.test_image(index)
        if inspected is not None:
            self._state.inspect(inspected)

    def open_file(self, path: str | Path) -> Inspected | None:
        """Encode an image file and place it as a handle at its posterior mean; None (and a message) on error."""
        if self._mirror.model is None:
            self._status.error("Open a checkpoint or start training before encoding images.")
            return None
        try:
            inspected = self.read_file(path)
        except ImageFileError as exc:
            self._status.error(str(exc))
            return None
        self._state.inspect(inspected)  # encodes it: the posterior is drawn
        handle = self._state.add_inspected_as_handle()
        assert handle is not None
        message = f"Encoded {inspected.title} and placed it as handle {handle.name} at its posterior mean."
        verdict = self.judge(inspected.image)
        if verdict is not None and verdict.off_data:
            message += (
                f" It is unlike the training data: its loss ({verdict.value:,.0f} nats) is far above the test "
                f"images' (99% below {verdict.high:,.0f}), so its place on the map says little."
            )
        self._status.info(message)
        return inspected

    def ask_path(self, parent: QWidget) -> str:
        """An image file the user picks ("" when cancelled)."""
        path, _ = QFileDialog.getOpenFileName(parent, "Encode an image onto the latent map", "", IMAGE_FILTER)
        return path

    def read_file(self, path: str | Path) -> Inspected:
        """An image file in the model's input shape; raises ImageFileError with a message for the user."""
        model = self._mirror.model
        assert model is not None
        image = read_image_file(path, model.config.image_shape)
        name = Path(path).name
        return Inspected(name, name, image, None)

    def judge(self, image: np.ndarray) -> Typicality | None:
        """How an opened image's loss compares with the test images' (None without a dataset)."""
        model, dataset = self._mirror.model, self._mirror.dataset
        if model is None or dataset is None:
            return None
        if self._reference is None or self._reference[0] != self._mirror.version:
            losses = reference_losses(model, dataset.test_images, self._mirror.recon_loss, REFERENCE_IMAGES)
            self._reference = (self._mirror.version, losses)
        return typicality(model, image, self._reference[1], self._mirror.recon_loss)
