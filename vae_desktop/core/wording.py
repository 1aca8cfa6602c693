"""Small pieces of the app's English, in one place so the window and the CLI say them alike."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """'1 epoch', '3 epochs', '1,000 steps': a count with its noun in the right number."""
    word = noun if count == 1 else (plural or f"{noun}s")
    return f"{count:,} {word}"
