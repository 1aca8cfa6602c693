"""The latent map's refresh pacing: a whole refresh cycle's compute, spread so it stays within its share of a core."""

from __future__ import annotations

import pytest

from vae_desktop.ui.latent.cpu_budget import RefreshBudget


def test_the_pause_after_a_refresh_counts_every_job_of_the_cycle() -> None:
    budget = RefreshBudget(share=0.05, min_interval_s=0.5, max_interval_s=10.0)
    budget.start_cycle()
    budget.charge(0.30)  # encode the test set
    assert budget.interval_ms() == 6000
    budget.charge(0.04)  # the manifold follows the view: a cheap job must not shorten the pause
    budget.charge(0.04)
    assert budget.interval_s() == pytest.approx(0.38 / 0.05)


def test_the_pause_stays_within_its_bounds_and_restarts_with_each_cycle() -> None:
    budget = RefreshBudget(share=0.05, min_interval_s=0.5, max_interval_s=10.0)
    budget.charge(0.001)
    assert budget.interval_s() == 0.5
    budget.charge(5.0)
    assert budget.interval_s() == 10.0
    budget.start_cycle()
    assert budget.spent_s == 0.0 and budget.interval_s() == 0.5


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_nonsense_shares_are_refused(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        RefreshBudget(share=share, min_interval_s=0.5, max_interval_s=10.0)
