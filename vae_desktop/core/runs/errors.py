"""Errors of run folders, with messages meant for the user (shown in the window, one CLI line)."""

from __future__ import annotations

from vae_desktop.core.errors import VaeDesktopError


class RunFolderError(VaeDesktopError):
    """A run folder cannot be created, written or opened."""


class RunFormatError(RunFolderError):
    """run.json or metrics.jsonl is not in a format this version reads (wrong kind, newer major version, damaged)."""


class NewerFormatError(RunFormatError):
    """Written by a newer VAE Desktop in a format this version cannot read: refuse, never guess."""
