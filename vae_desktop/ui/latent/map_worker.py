"""Runs the latent map's heavy jobs (encode the test set, decode the manifold) off the GUI thread.

A CoalescingWorker (ui/coalescing_worker.py) over MapComputer: while one job runs, newer requests
replace the pending one and `merge_jobs` keeps the work it still owed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from vae_desktop.core.latent_map import MapComputer, MapJob, MapResult, merge_jobs
from vae_desktop.ui.coalescing_worker import CoalescingWorker


class MapWorker(CoalescingWorker):
    """resultReady carries a MapResult (numpy arrays only)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(self._run_job, merge_jobs, "Updating the latent map", parent)
        self._computer = MapComputer()

    def _run_job(self, job: MapJob) -> MapResult:
        return self._computer.run(job)  # looked up per job: a test may replace MapComputer.run
