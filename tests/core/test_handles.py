"""The handle set behind the latent explorer: names, selection and interpolation pair."""

from __future__ import annotations

import numpy as np
import pytest

from vae_desktop.core.handles import HandleSet


def test_handles_get_letters_and_the_newest_is_selected() -> None:
    handles = HandleSet(3)
    for _ in range(28):
        handles.add(np.zeros(3))
    assert handles.names[:3] == ["A", "B", "C"]
    assert handles.names[25:] == ["Z", "A2", "B2"]
    assert handles.selected.name == "B2"
    assert handles.pair == ("A", "B")


def test_removing_moves_selection_to_a_neighbour_and_refills_the_pair() -> None:
    handles = HandleSet(2)
    for _ in range(4):
        handles.add(np.zeros(2))
    handles.select("B")
    handles.remove("B")
    assert handles.selected.name == "C"
    assert handles.pair == ("A", "C")
    handles.remove("A")  # the start is gone: the next spare handle becomes the start
    assert handles.pair == ("D", "C")
    handles.remove("D")
    handles.remove("C")
    assert handles.selected is None and handles.pair == (None, None) and len(handles) == 0
    handles.add(np.ones(2))
    assert handles.names == ["A"] and handles.pair == ("A", None)


def test_names_are_reused_after_removal() -> None:
    handles = HandleSet(2)
    handles.add(np.zeros(2))
    handles.add(np.zeros(2))
    handles.remove("A")
    assert handles.add(np.zeros(2)).name == "A"


def test_values_are_copied_and_checked() -> None:
    handles = HandleSet(3)
    z = np.array([1.0, 2.0, 3.0])
    handle = handles.add(z, source="test image #4")
    z[0] = 99
    assert handle.z[0] == 1.0 and handle.source == "test image #4"
    handles.set_value("A", 2, -0.5)
    np.testing.assert_array_equal(handles.get("A").z, [1.0, 2.0, -0.5])
    with pytest.raises(ValueError, match="3 latent values"):
        handles.move("A", np.zeros(2))
    with pytest.raises(ValueError, match="finite"):
        handles.move("A", np.array([0.0, np.nan, 0.0]))
    with pytest.raises(KeyError):
        handles.select("Q")
