"""The one dataset shape every source produces: uint8 image tensors plus labels and class names."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ImageDataset:
    """Train/test images as uint8 (N, C, H, W) tensors; `batch_to_float` scales a batch to [0, 1].

    Keeping uint8 in memory is 4x smaller than float32 (CIFAR-10 would be 600 MB as floats).
    """

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    class_names: list[str]
    notes: list[str] = field(default_factory=list)  # e.g. "skipped 3 unreadable files"
    # The size asked for (`--image-size`), stored in checkpoints so a resumed run reads the same
    # pixels; None: the dataset's own size (28 or 32), as every run before image sizes existed.
    image_size: int | None = None

    def __post_init__(self) -> None:
        for images in (self.train_images, self.test_images):
            if images.dtype != torch.uint8 or images.ndim != 4:
                raise ValueError("images must be a uint8 tensor of shape (N, C, H, W)")
        if len(self.train_images) != len(self.train_labels) or len(self.test_images) != len(self.test_labels):
            raise ValueError("images and labels differ in length")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.train_images.shape[1:]
        return (int(c), int(h), int(w))

    @property
    def num_train(self) -> int:
        return len(self.train_images)

    @property
    def num_test(self) -> int:
        return len(self.test_images)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to float32 in [0, 1]."""
    return images.float().div_(255.0)
