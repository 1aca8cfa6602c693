"""The ways into following: `vae-desktop DIR` (a run folder given to the app) and a folder dropped on
the window; a dropped checkpoint still opens as File ▸ Open does."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from vae_desktop.ui.app import build_main_window

from ..conftest import SMALL_MODEL
from .test_follow_damage import _write_run


def _drop(window, path) -> None:
    """Deliver a drop as the drag manager does once a drag is accepted (QApplication drops drop events
    that come from no drag, so a test hands it to the window's own event handler)."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    for kind in (QDragEnterEvent, QDropEvent):
        event = kind(QPoint(50, 50), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier)
        window.event(event)
        assert event.isAccepted()


def test_a_run_folder_given_to_the_app_is_followed(qtbot, settings, tmp_path):
    folder = tmp_path / "given"
    _write_run(folder, steps=12)
    window = build_main_window(str(folder), settings=settings, model_template=SMALL_MODEL, training_threads=1)
    qtbot.addWidget(window)
    try:
        assert window.follow is not None and window.follow.active
        qtbot.waitUntil(lambda: len(window.plots.batch_data()["global_step"]) == 12, timeout=20_000)
        assert window.follow.banner_text().startswith("Following given")
    finally:
        window.follow.shutdown()
        window.controller.shutdown(10_000)
        window.join_background_work(60)


def test_a_dropped_run_folder_is_followed_and_a_dropped_file_that_is_neither_is_refused(qtbot, make_window,
                                                                                        settings, tmp_path):
    window = make_window(settings)
    folder = tmp_path / "dropped"
    _write_run(folder, steps=9)
    assert window.acceptDrops()
    _drop(window, folder)
    assert window.follow.active
    qtbot.waitUntil(lambda: len(window.plots.batch_data()["global_step"]) == 9, timeout=20_000)
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    _drop(window, other)
    assert window.banner.kind == "error" and "neither a run folder nor" in window.banner.message()
    assert window.follow.active  # still following what it followed
