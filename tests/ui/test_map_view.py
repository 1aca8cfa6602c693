"""The latent map view on its own: what a refresh draws when the same points move (as while training)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from vae_desktop.ui.latent.map_view import LatentMapView


def _open_view(qtbot) -> LatentMapView:  # noqa: ANN001
    view = LatentMapView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    qtbot.waitExposed(view)
    view.set_grid_visible(False)
    view.set_visible_range((-10.0, 10.0), (-10.0, 10.0))
    return view


def _drawn_colour_at(view: LatentMapView, u: float, v: float) -> QColor:
    view.viewport().repaint()
    image = view.grab().toImage()
    return image.pixelColor(view.point_to_widget(u, v))


def test_moved_points_are_drawn_and_found_where_they_now_are(qtbot) -> None:  # noqa: ANN001
    view = _open_view(qtbot)
    labels = np.array([0, 0, 1, 1])
    names = ["a", "b"]
    view.set_scatter(np.array([[-6.0, -6.0], [-5.0, -6.0], [6.0, 6.0], [5.0, 6.0]]), labels, names)
    background = _drawn_colour_at(view, 0.0, 0.0)
    assert _drawn_colour_at(view, -6.0, -6.0) != background

    moved = np.array([[-6.0, 6.0], [-5.0, 6.0], [6.0, -6.0], [5.0, -6.0]])
    view.set_scatter(moved, labels, names)  # same count per class: positions are updated in place

    assert _drawn_colour_at(view, -6.0, 6.0) != background
    assert _drawn_colour_at(view, -6.0, -6.0) == background  # nothing left behind at the old place
    first, second = view._class_items
    np.testing.assert_array_equal(np.stack(first.getData(), axis=1), moved[:2])
    np.testing.assert_array_equal(np.stack(second.getData(), axis=1), moved[2:])
    assert first.dataBounds(1) == (6.0, 6.0)  # bounds follow, so "fit view" frames the new positions
    assert len(second.pointsAt(QPointF(6.0, -6.0))) == 1
    np.testing.assert_array_equal(view.scatter_positions(), moved)


def test_a_different_number_of_points_replaces_them(qtbot) -> None:  # noqa: ANN001
    view = _open_view(qtbot)
    view.set_scatter(np.array([[1.0, 1.0], [2.0, 2.0]]), np.array([0, 0]), ["a"])
    view.set_scatter(np.array([[3.0, 3.0], [4.0, 4.0], [5.0, 5.0]]), np.array([0, 0, 0]), ["a"])
    x, y = view._class_items[0].getData()
    np.testing.assert_array_equal(x, [3.0, 4.0, 5.0])
    view.set_scatter(np.zeros((0, 2)), np.zeros(0, np.int64), ["a"])
    assert len(view._class_items[0].getData()[0]) == 0
