"""The bundle's entry point: the same `vae-desktop` command line as the installed gui-script."""

import multiprocessing

from vae_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app must not re-run main() in spawned helper processes
    raise SystemExit(main())
