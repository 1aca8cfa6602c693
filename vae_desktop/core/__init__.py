"""Qt-free core: model, losses, datasets, training loop, checkpoints, latent geometry.

Nothing in this package may import Qt; `tests/core/test_no_qt.py` checks it.
"""
