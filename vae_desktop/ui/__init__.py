"""Qt views and controllers. They present and drive `vae_desktop.core`; no training logic lives here."""
