"""The reconstruction strip: fixed test images above their reconstructions; clicks select a test image."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.core.inference import decode_images, encode_means


def test_strip_shows_fixed_test_images_and_the_mirrors_reconstructions(qtbot, window, small_shapes):
    strip = window.recon_strip
    qtbot.waitUntil(lambda: strip.originals() is not None, timeout=10_000)
    indices = strip.indices
    assert len(indices) == 10 and len(set(small_shapes.test_labels[indices].tolist())) == 4  # every class shown
    np.testing.assert_allclose(strip.originals(), small_shapes.test_images[indices, 0].numpy() / 255.0, atol=1e-6)
    assert strip.reconstructions() is None  # no model yet

    window.start_button.click()
    wait_for_batches(qtbot, window, 20)
    qtbot.waitUntil(lambda: strip.reconstructions() is not None, timeout=10_000)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    strip.refresh_now()
    model = window.mirror.model
    expected = decode_images(model, encode_means(model, small_shapes.test_images[indices])[0])
    np.testing.assert_allclose(strip.reconstructions(), expected, atol=1e-6)
    assert strip.reconstructions().shape == (10, 28, 28)
    assert strip.indices.tolist() == indices.tolist()  # the same images all run long


def test_clicking_an_image_emits_its_test_index(qtbot, window):
    strip = window.recon_strip
    qtbot.waitUntil(lambda: len(strip.indices) == 10, timeout=10_000)
    x, y = strip.cell_center(3, row=1)
    with qtbot.waitSignal(window.testImageSelected) as clicked:
        qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert clicked.args == [int(strip.indices[3])]


def test_strip_paints_its_images(qtbot, window):
    strip = window.recon_strip
    qtbot.waitUntil(lambda: strip.originals() is not None, timeout=10_000)
    strip.resize(900, 200)
    image = strip.grab().toImage()
    originals = strip.originals()
    for column in (0, 5):
        x, y = strip.cell_center(column, row=0)
        rect_size = int(strip._cell_size())  # test reads the layout it clicks on
        left, top = x - rect_size // 2, y - rect_size // 2
        # Sample the brightest source pixel and find it drawn at the matching place.
        r, c = np.unravel_index(np.argmax(originals[column]), originals[column].shape)
        px = image.pixelColor(left + int((c + 0.5) * rect_size / 28), top + int((r + 0.5) * rect_size / 28))
        assert abs(px.red() - originals[column][r, c] * 255) <= 2
