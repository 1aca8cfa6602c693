"""What a window gets with the core, beside its torch-side `RunController`: the run folders,
following another process's run, the comparison, the device and dataset choices, the mirror.

Apart from `MainWindow` because these are the torch-heavy imports: the window imports this module
only inside `attach_core()`, after its first paint (tests/ui/test_startup.py checks what is
imported before it). The window connects the controller's signals to its own views itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vae_desktop.ui.comparison_controller import ComparisonController
from vae_desktop.ui.devices import available_devices, dataset_choices
from vae_desktop.ui.experiments_menu import ExperimentsMenu
from vae_desktop.ui.follow.wiring import attach_following
from vae_desktop.ui.run_controller import RunController
from vae_desktop.ui.run_folders import RunFolders

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow


def attach_core_parts(window: MainWindow, controller: RunController) -> None:
    """Everything else built with the core, once `window.controller` is `controller`."""
    window.run_folders = RunFolders(window)
    window.form.set_dataset_choices(dataset_choices())
    window.form.set_available_devices(available_devices())
    window.recon_strip.set_mirror(controller.mirror)
    window.follow, window.follow_actions = attach_following(window)
    window.progress.follow(lambda: controller.status, controller.times)
    window.comparison = ComparisonController(window)
    window.experiments = ExperimentsMenu(window)
