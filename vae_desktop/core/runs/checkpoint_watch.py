"""CheckpointWatch: the run's newest complete checkpoint, reported once each time it changes.

Writers put checkpoints in place by renaming a finished temp file over the old name, so a name
that shows a new size, mtime or inode names a complete file; temp files (".latest.vaeckpt.*.tmp")
are never considered. Over SFTP, where mtime has whole seconds and there is no inode, run.json's
count of saves is the extra hint that a same-sized checkpoint was saved again within a second.

Which file: checkpoints/latest.vaeckpt when it exists; otherwise the newest *.vaeckpt in
checkpoints/, then in the folder itself (the single model.vaeckpt of older `train --out` folders).
"""

from __future__ import annotations

from dataclasses import dataclass

from vae_desktop.core.runs.schema import CHECKPOINT_DIR, CHECKPOINT_SUFFIX, LATEST_CHECKPOINT
from vae_desktop.core.runs.source import FetchedFile, FileStat, RunSource


@dataclass(frozen=True)
class CheckpointFile:
    """A complete checkpoint to load with core.checkpoint.load_checkpoint(path)."""

    name: str  # inside the run folder, e.g. "checkpoints/latest.vaeckpt"
    path: str  # a local file: the file itself, or a fetched copy of a remote one
    size: int
    mtime_ns: int
    inode: int | None


def is_checkpoint_name(name: str) -> bool:
    return name.endswith(CHECKPOINT_SUFFIX) and not name.startswith(".")


def newest_checkpoint(source: RunSource) -> tuple[str, FileStat] | None:
    """(name, stat) of the checkpoint a reader should load, or None when the folder has none."""
    latest = source.stat(LATEST_CHECKPOINT)
    if latest is not None and not latest.is_dir:
        return LATEST_CHECKPOINT, latest
    for folder in (CHECKPOINT_DIR, ""):
        found: list[tuple[int, str, FileStat]] = []
        for entry in source.list_dir(folder):
            if not is_checkpoint_name(entry):
                continue
            name = f"{folder}/{entry}" if folder else entry
            entry_stat = source.stat(name)
            if entry_stat is not None and not entry_stat.is_dir:
                found.append((entry_stat.mtime_ns, name, entry_stat))
        if found:
            _, name, entry_stat = max(found)
            return name, entry_stat
    return None


class CheckpointWatch:
    def __init__(self, source: RunSource) -> None:
        self.source = source
        self._reported: tuple[str, tuple[int, int, int | None]] | None = None  # name and stat identity
        self._accounted: int | None = None  # saves the reported file is known to include

    def poll(self, saves: int | None = None) -> tuple[CheckpointFile | None, str | None]:
        """(a checkpoint that is new since the last report, or None; a problem, or None).

        saves: run.json's count of checkpoint saves, when known. The writer renames the file
        before it counts the save, so a file with a new stat may come with the count of the save
        before it: it is then taken to include one more save than the count says, and only a count
        beyond that means a save that the stat did not show. A checkpoint that vanishes while it is
        fetched is reported as a problem and tried again on the next poll."""
        try:
            newest = newest_checkpoint(self.source)
        except ConnectionError:
            raise  # the whole source is unreachable: the follower says so once
        except OSError as exc:
            return None, f"Could not look for checkpoints: {exc}"
        if newest is None:
            return None, None
        name, found = newest
        stat_changed = (name, found.identity) != self._reported
        counted_more = saves is not None and self._accounted is not None and saves > self._accounted
        if not stat_changed and not counted_more:
            return None, None
        try:
            fetched: FetchedFile = self.source.fetch(name)
        except FileNotFoundError:
            return None, f"{name} was replaced while it was being read; trying again."
        except ConnectionError:
            raise
        except OSError as exc:
            return None, f"Could not fetch {name}: {exc}"
        got = fetched.stat
        if saves is not None:
            first = self._accounted is None or self._reported is None
            self._accounted = saves if first or not stat_changed else max(saves, self._accounted + 1)
        self._reported = (name, got.identity)
        return CheckpointFile(name, str(fetched.path), got.size, got.mtime_ns, got.inode), None

    def retry(self) -> None:
        """Report the current checkpoint again on the next poll (its load failed, e.g. it vanished)."""
        self._reported = None
        self._accounted = None
