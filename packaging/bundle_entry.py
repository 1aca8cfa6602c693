"""The bundle's entry point: the same command line as the installed `vae-desktop` / `vae-desktop-gui` scripts.

The bundle's executable is windowed (like `vae-desktop-gui`): on Windows its `train` output does not
reach a console; use an installed `vae-desktop` for the command line there.
"""

import multiprocessing

from vae_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app must not re-run main() in spawned helper processes
    raise SystemExit(main())
