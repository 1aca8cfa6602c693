"""Headless commands behind the CLI; each module holds one command."""
