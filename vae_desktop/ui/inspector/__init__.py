"""Encoder inspector: how the encoder's 2*z_dim outputs become a mean, a stddev and a sample."""

from vae_desktop.ui.inspector.panel import InspectorPanel

__all__ = ["InspectorPanel"]
