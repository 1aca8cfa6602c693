"""The main window's widget tree: the control panel on the left, the banners, loss plots and
reconstructions in the middle, and the (hidden until added) side-panel tabs on the right.

Apart from `MainWindow` because building and arranging widgets is one job with no behaviour: the
window keeps references to the parts it drives and wires them itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from vae_desktop.ui.control_panel import ControlPanel
from vae_desktop.ui.follow.banner import FollowBanner
from vae_desktop.ui.loss_plots import LossPlots
from vae_desktop.ui.message_banner import MessageBanner
from vae_desktop.ui.recon_strip import ReconstructionStrip


@dataclass(frozen=True)
class WindowLayout:
    """The parts the window drives; `main_splitter` is its central widget."""

    banner: MessageBanner
    follow_banner: FollowBanner
    plots: LossPlots
    recon_strip: ReconstructionStrip
    center_splitter: QSplitter
    side_tabs: QTabWidget
    main_splitter: QSplitter

    def add_side_panels(self, latent: QWidget, inspector: QWidget, first_width: int | None) -> None:
        """The latent map and the inspector in tabs beside the plots. `first_width`: the window's width
        on a first launch (no splitter sizes remembered), where the plots get 42 % of the room beside the form."""
        self.side_tabs.addTab(latent, "Latent map")
        self.side_tabs.addTab(inspector, "Encoder inspector")
        self.side_tabs.show()
        if first_width is not None:
            left = 300
            rest = max(first_width - left, 900)
            self.main_splitter.setSizes([left, rest * 42 // 100, rest - rest * 42 // 100])


def build_window_layout(panel: ControlPanel) -> WindowLayout:
    banner = MessageBanner()
    follow_banner = FollowBanner()
    plots = LossPlots()
    recon_strip = ReconstructionStrip()
    center_splitter = QSplitter(Qt.Orientation.Vertical)
    center_splitter.setChildrenCollapsible(False)
    center_splitter.addWidget(plots)
    center_splitter.addWidget(recon_strip)
    center_splitter.setStretchFactor(0, 3)
    center_splitter.setStretchFactor(1, 1)
    center = QWidget()
    center_layout = QVBoxLayout(center)
    center_layout.setContentsMargins(4, 8, 4, 4)
    center_layout.addWidget(banner)
    center_layout.addWidget(follow_banner)
    center_layout.addWidget(center_splitter, 1)

    side_tabs = QTabWidget()
    side_tabs.setDocumentMode(True)
    side_tabs.hide()

    main_splitter = QSplitter(Qt.Orientation.Horizontal)
    main_splitter.addWidget(panel)
    main_splitter.addWidget(center)
    main_splitter.addWidget(side_tabs)
    main_splitter.setStretchFactor(0, 0)
    main_splitter.setStretchFactor(1, 1)
    main_splitter.setStretchFactor(2, 1)
    main_splitter.setCollapsible(1, False)
    return WindowLayout(banner, follow_banner, plots, recon_strip, center_splitter, side_tabs, main_splitter)
