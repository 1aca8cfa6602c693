"""At the default window size nothing the user reads is cut off, and hovering never moves the columns.

Each check measures what is on screen: a wrapped label's height against the height its text needs, a
text item's extent against the canvas, a combo box's width against the width its text needs, the
drawn pixels of a placeholder, the splitter sizes before and after a hover.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QImage
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QPushButton, QStyle, QStyleOptionComboBox, QWidget

from tests.ui.helpers import wait_for_batches, wait_for_state
from tests.ui.mouse import mouse_move
from vae_desktop.ui.latent.controls import PLANE_DIMS
from vae_desktop.ui.recon_strip import LABEL_WIDTH, ReconstructionStrip

DEFAULT_SIZE = (1320, 820)


def text_rect_in_canvas(canvas, label) -> QRectF:
    """Where a pyqtgraph LabelItem's text is drawn, in canvas viewport pixels (its whole laid-out text)."""
    item = label.item
    size = item.document().size()
    scene = item.mapRectToScene(QRectF(QPointF(0, 0), size))
    return QRectF(canvas.mapFromScene(scene).boundingRect())


def combo_text_fits(combo: QComboBox) -> bool:
    """Whether each choice of the combo fits its text field (the style clips the text at that field's edge)."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    metrics = combo.fontMetrics()
    return all(metrics.horizontalAdvance(combo.itemText(i)) <= field.width() - 2 for i in range(combo.count()))


def button_text_fits(button: QPushButton) -> bool:
    return button.width() >= button.sizeHint().width()


def assert_legends_whole(window) -> None:
    canvas = window.plots.canvas
    visible = QRectF(canvas.viewport().rect())
    for loss_plot in (window.plots.recon, window.plots.kl):
        label = loss_plot.plot.titleLabel
        text = label.item.toPlainText()
        assert all(word in text for word in ("batch", "smoothed", "train", "test"))
        drawn = text_rect_in_canvas(canvas, label)
        assert visible.contains(drawn), f"{loss_plot.title}: legend drawn at {drawn}, canvas {visible}"


def test_before_training_the_hint_and_the_legends_are_whole(qtbot, make_window, settings):
    window = make_window(settings, set_form=False)
    assert (window.width(), window.height()) == DEFAULT_SIZE
    qtbot.waitUntil(lambda: window.start_button.isEnabled(), timeout=5000)
    hint = window.findChild(QLabel, "firstRunHint")
    qtbot.waitUntil(hint.isVisible, timeout=5000)
    # A wrapped label shows all its lines only when it is as tall as its text needs at its width.
    assert hint.height() >= hint.heightForWidth(hint.width()), "the hint's last line is cut off"
    assert_legends_whole(window)


def ink_columns(widget: QWidget, background: QColor) -> np.ndarray:
    """x of every pixel column of the widget's drawing that differs from its background."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint32, image.width() * image.height()).reshape(
        image.height(), image.width()
    )
    return np.flatnonzero((pixels != (background.rgb() & 0xFFFFFFFF)).any(axis=0))


def test_the_strip_placeholder_wraps_instead_of_being_cut(qtbot):
    strip = ReconstructionStrip()
    qtbot.addWidget(strip)
    for width in (300, 384, 520):
        strip.resize(width, 170)
        columns = ink_columns(strip, strip.palette().base().color())
        text = columns[columns >= LABEL_WIDTH]  # the row titles are left of LABEL_WIDTH
        assert len(text), "the placeholder text is drawn"
        assert text.max() < width - 4, f"at {width} px the text runs into the right edge (cut off)"


def test_after_training_hover_keeps_the_columns_and_every_control_reads_whole(qtbot, make_window, settings):
    window = make_window(settings, epochs=99_999, batch_size=10)  # long wordings: "Epoch 1 of 99999 · step …"
    window.form.z_dim.setValue(16)
    window.start_button.click()
    wait_for_batches(qtbot, window, 60)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    latent = window.side_tabs.widget(0)
    window.side_tabs.setCurrentWidget(latent)
    qtbot.waitUntil(lambda: latent.map_version >= 0, timeout=20_000)
    latent.set_plane_mode(PLANE_DIMS)
    qtbot.wait(100)

    # Progress texts fit their bars with the left panel at its narrowest and a larger desktop font.
    sizes = window.main_splitter.sizes()
    narrowest = window.form.parentWidget().minimumWidth()
    window.main_splitter.setSizes([narrowest, sizes[1] + sizes[0] - narrowest, sizes[2]])
    for bar in (window.progress.epoch_progress, window.progress.run_progress):
        font = QFont(bar.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        bar.setFont(font)
    qtbot.wait(50)
    for bar in (window.progress.epoch_progress, window.progress.run_progress):
        assert bar.fontMetrics().horizontalAdvance(bar.text()) <= bar.width() - 8, f"{bar.text()!r} overflows"
    assert window.progress.epoch_progress.text().startswith("Epoch 1")  # shortened, never emptied

    window.main_splitter.setSizes(sizes)
    qtbot.wait(50)
    before = window.main_splitter.sizes()
    canvas = window.plots.canvas
    middle = canvas.mapFromScene(window.plots.recon.plot.sceneBoundingRect().center())
    for dx in (-40, 0, 40):  # a real pointer over the plot: the readout shows the values there
        mouse_move(canvas.viewport(), middle + QPoint(dx, 0))
        qtbot.wait(60)
    qtbot.waitUntil(lambda: "recon" in window.plots.readout.text(), timeout=2000)
    qtbot.wait(50)
    assert window.main_splitter.sizes() == before, "hovering the loss plot moved the columns"

    assert button_text_fits(window.start_button), window.start_button.text()
    assert combo_text_fits(window.form.device), window.form.device.currentText()
    controls = latent.controls
    for combo in (controls.plane_combo, controls.u_combo, controls.v_combo, controls.decode_combo):
        assert combo.isVisible() and combo_text_fits(combo), combo.currentText()
    for button in (controls.fit_button, controls.open_button):
        assert button_text_fits(button), button.text()
    assert_legends_whole(window)

    inspector = window.side_tabs.widget(1)  # its sections fit the tab: nothing to scroll sideways to
    window.side_tabs.setCurrentWidget(inspector)
    qtbot.waitUntil(lambda: inspector.stack.currentWidget() is inspector.content_page, timeout=5000)
    qtbot.wait(50)
    page = inspector.content_page
    assert page.widget().minimumSizeHint().width() <= page.viewport().width()
    assert not page.horizontalScrollBar().isVisible()


def test_the_loss_readout_goes_away_when_the_pointer_leaves(qtbot, window):
    window.plots.append_arrays(np.arange(1.0, 41.0), np.linspace(200, 100, 40), np.linspace(5, 10, 40))
    window.plots.redraw_now()
    canvas = window.plots.canvas
    middle = canvas.mapFromScene(window.plots.recon.plot.sceneBoundingRect().center())
    mouse_move(canvas.viewport(), middle)
    qtbot.waitUntil(lambda: "recon" in window.plots.readout.text(), timeout=2000)
    assert window.plots.recon.cursor.isVisible()
    QApplication.sendEvent(canvas, QEvent(QEvent.Type.Leave))
    qtbot.waitUntil(lambda: window.plots.readout.text() == "", timeout=2000)
    assert not window.plots.recon.cursor.isVisible()
