"""Take the README's screenshots from the real app, under a virtual X server.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/take_screenshots.py

It starts VAE Desktop the way `vae-desktop` does (`launch`: the window paints first, PyTorch loads
in the background), trains the default model with a 2-D latent space on the built-in Shapes, and
while training runs grabs the whole window (light theme) and then the latent explorer (dark
theme). The PNGs are reduced to 256 colours so the repository stays small. Settings go to a
temporary folder: your own settings are neither used nor changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WINDOW_SIZE = (1320, 820)  # the window's default size: what a new user sees


def shrink_png(path: Path) -> None:
    """256 colours, optimised: about 100 KB instead of 350 KB, no visible change for a UI.

    Octree keeps the few pixels of a thin coloured curve in their colour; median cut turned them grey.
    """
    from PIL import Image

    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    reduced.save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNGs (default: next to this script)")
    parser.add_argument("--epoch", type=int, default=4, help="take the training shot once this epoch has finished")
    parser.add_argument("--offscreen", action="store_true", help="no X server needed (for a quick look only)")
    args = parser.parse_args()
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        print("No display: run under xvfb-run (see the top of this file) or pass --offscreen.", file=sys.stderr)
        return 2
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="vae-desktop-screenshots-")

    from PySide6.QtCore import QTimer

    from vae_desktop.ui.app import create_application, launch
    from vae_desktop.ui.theme import theme_manager

    app = create_application()
    theme_manager().set_preference("light")
    started = launch()
    window = started.window
    window.resize(*WINDOW_SIZE)
    args.out.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []

    def save(widget, name: str) -> None:
        path = args.out / name
        widget.grab().save(str(path))
        shrink_png(path)
        taken.append(path)
        print(f"{path}: {path.stat().st_size // 1024} KB")

    def start() -> None:
        window.form.z_dim.setValue(2)  # the map is then the latent space itself
        window.form.epochs.setValue(30)
        window.start_training()

    def on_epoch(metrics) -> None:
        if metrics.epoch == args.epoch:
            QTimer.singleShot(2500, training_shot)  # mid-way through the next epoch: curves still moving

    def training_shot() -> None:
        latent = window.latent_panel
        latent.show_test_image(int(latent.scatter()[0][len(latent.scatter()[0]) // 3]))  # a posterior ellipse
        QTimer.singleShot(600, lambda: (save(window, "window-training.png"), dark_shot()))

    def dark_shot() -> None:
        theme_manager().set_preference("dark")
        latent = window.latent_panel
        latent.add_handle_at(*latent.scatter()[1].mean(axis=0))  # a third handle in the middle of the data
        QTimer.singleShot(1500, lambda: (save(latent, "latent-explorer-dark.png"), finish()))

    def finish() -> None:
        window.stop_training()
        QTimer.singleShot(1500, window.close)

    window.coreReady.connect(lambda: QTimer.singleShot(500, start))
    window.epochFinished.connect(on_epoch)
    app.exec()
    started.join(30)
    return 0 if len(taken) == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
