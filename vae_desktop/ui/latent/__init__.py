"""Pieces of the latent explorer panel (`vae_desktop.ui.latent_panel.LatentPanel` puts them together)."""
