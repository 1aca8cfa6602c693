import numpy as np

from vae_desktop.core.showcase import pick_showcase_indices


def test_showcase_cycles_through_classes_in_order():
    labels = np.array([2, 0, 0, 1, 2, 1, 0])
    np.testing.assert_array_equal(pick_showcase_indices(labels, 5), [1, 3, 0, 2, 5])


def test_showcase_skips_exhausted_classes_and_never_repeats():
    labels = np.array([0, 1, 1, 1, 1])
    picked = pick_showcase_indices(labels, 4)
    np.testing.assert_array_equal(picked, [0, 1, 2, 3])
    assert len(set(picked.tolist())) == 4


def test_showcase_without_classes_spreads_over_the_set_and_handles_small_sets():
    np.testing.assert_array_equal(pick_showcase_indices(np.zeros(9), 3), [0, 4, 8])
    assert len(pick_showcase_indices(np.zeros(2), 10)) == 2
    assert len(pick_showcase_indices(np.zeros(0), 10)) == 0
