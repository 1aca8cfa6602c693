"""`python -m vae_desktop` hands straight to the CLI."""

from vae_desktop.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
