"""The latent map view on its own: what a refresh draws when the same points move (as while training),
and where the hover thumbnail goes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from tests.ui.mouse import mouse_move
from vae_desktop.ui.latent.map_view import LatentMapView


def _open_view(qtbot) -> LatentMapView:
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


def test_moved_points_are_drawn_and_found_where_they_now_are(qtbot) -> None:
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
    first, second = view.class_items
    np.testing.assert_array_equal(np.stack(first.getData(), axis=1), moved[:2])
    np.testing.assert_array_equal(np.stack(second.getData(), axis=1), moved[2:])
    assert first.dataBounds(1) == (6.0, 6.0)  # bounds follow, so "fit view" frames the new positions
    assert len(second.pointsAt(QPointF(6.0, -6.0))) == 1
    np.testing.assert_array_equal(view.scatter_positions(), moved)


def test_a_different_number_of_points_replaces_them(qtbot) -> None:
    view = _open_view(qtbot)
    view.set_scatter(np.array([[1.0, 1.0], [2.0, 2.0]]), np.array([0, 0]), ["a"])
    view.set_scatter(np.array([[3.0, 3.0], [4.0, 4.0], [5.0, 5.0]]), np.array([0, 0, 0]), ["a"])
    x, y = view.class_items[0].getData()
    np.testing.assert_array_equal(x, [3.0, 4.0, 5.0])
    view.set_scatter(np.zeros((0, 2)), np.zeros(0, np.int64), ["a"])
    assert len(view.class_items[0].getData()[0]) == 0


# ---- the hover thumbnail -------------------------------------------------------------------------------
def _hover_view(qtbot, points: np.ndarray) -> LatentMapView:
    view = _open_view(qtbot)
    view.set_scatter(points, np.zeros(len(points), np.int64), ["a"])
    view.set_hover_source(lambda i: (np.full((28, 28), 0.5, np.float32), f"#{i}", 0))
    return view


def _thumbnail_on_screen(view: LatentMapView) -> QRectF:
    """Where the thumbnail is drawn, in viewport pixels (it ignores the map's zoom)."""
    thumbnail = view.hover_thumbnail()
    return thumbnail.deviceTransform(view.viewportTransform()).mapRect(thumbnail.boundingRect())


def _map_on_screen(view: LatentMapView) -> QRectF:
    return view.mapFromScene(view.getPlotItem().getViewBox().sceneBoundingRect()).boundingRect().toRectF()


def test_the_thumbnail_goes_when_the_pointer_leaves_the_map(qtbot) -> None:
    view = _hover_view(qtbot, np.array([[0.0, 0.0]]))
    mouse_move(view.viewport(), view.point_to_widget(0.0, 0.0))
    assert view.hover_thumbnail().isVisible()
    QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))  # what Qt sends when the pointer leaves
    assert not view.hover_thumbnail().isVisible()


def test_the_thumbnail_follows_the_point_under_the_pointer_when_points_move(qtbot) -> None:
    view = _hover_view(qtbot, np.array([[0.0, 0.0], [6.0, 6.0]]))
    mouse_move(view.viewport(), view.point_to_widget(0.0, 0.0))
    thumbnail = view.hover_thumbnail()
    assert thumbnail.isVisible() and thumbnail.pos() == QPointF(0.0, 0.0)
    view.set_scatter(np.array([[-6.0, -6.0], [6.0, 6.0]]), np.zeros(2, np.int64), ["a"])  # a refresh moved it
    assert not thumbnail.isVisible(), "the thumbnail stayed where no point is any more"
    view.set_scatter(np.array([[-6.0, -6.0], [0.0, 0.0]]), np.zeros(2, np.int64), ["a"])  # another one is there
    assert thumbnail.isVisible() and thumbnail.pos() == QPointF(0.0, 0.0)


def test_the_thumbnail_is_never_cut_by_the_edge_of_the_map(qtbot) -> None:
    corners = np.array([[9.5, 9.5], [-9.5, 9.5], [9.5, -9.5], [-9.5, -9.5], [0.0, 9.5], [9.5, 0.0]])
    view = _hover_view(qtbot, corners)
    for u, v in corners:
        mouse_move(view.viewport(), view.point_to_widget(u, v))
        assert view.hover_thumbnail().isVisible()
        drawn, room = _thumbnail_on_screen(view), _map_on_screen(view)
        assert room.contains(drawn), f"thumbnail of ({u}, {v}) at {drawn} is cut by the map {room}"
