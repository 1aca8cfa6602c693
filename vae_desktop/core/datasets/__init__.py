"""Datasets: built-in `shapes`, the torchvision sets, and the user's image folders."""

from vae_desktop.core.datasets.base import ImageDataset, to_float
from vae_desktop.core.datasets.registry import DATASETS, DEFAULT_DATASET, FOLDER_PREFIX, dataset_names, load_dataset

__all__ = ["DATASETS", "DEFAULT_DATASET", "FOLDER_PREFIX", "ImageDataset", "dataset_names", "load_dataset", "to_float"]
