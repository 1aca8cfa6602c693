"""CheckpointWatch: the run's newest complete checkpoint, reported once each time it changes.

Writers put checkpoints in place by renaming a finished temp file over the old name, so a name
that shows a new size, mtime or inode names a complete file; temp files (".latest.vaeckpt.*.tmp")
are never considered. Over SFTP, where mtime has whole seconds and there is no inode, the file's
tail (its zip directory of CRCs) tells a new save from the same file seen again.

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


TAIL_BYTES = 4096  # a checkpoint's zip central directory: every record's name, size and CRC-32


class CheckpointWatch:
    """Reports a checkpoint when its content is new, judged by the last TAIL_BYTES of the file.

    A stat (size, mtime, inode) says when to look; the file's tail says whether it is another
    checkpoint. The tail is the zip's central directory, which holds the CRC-32 of every record, so
    two saves differ there even when they have the same size and, over SFTP, the same whole-second
    mtime. Reading 4 KB is cheap next to fetching the file; a sync tool touching only the mtime
    fetches nothing."""

    def __init__(self, source: RunSource) -> None:
        self.source = source
        self._seen: tuple[str, tuple[int, int, int | None]] | None = None  # name and stat last looked at
        self._reported_tail: bytes | None = None
        self._saves_seen: int | None = None

    def poll(self, saves: int | None = None) -> tuple[CheckpointFile | None, str | None]:
        """(a checkpoint whose content is new since the last report, or None; a problem, or None).

        saves: run.json's count of checkpoint saves; a change makes the watch look at the tail even
        when the stat is unchanged. A checkpoint that vanishes while it is read is reported as a
        problem and tried again on the next poll."""
        try:
            newest = newest_checkpoint(self.source)
        except ConnectionError:
            raise  # the whole source is unreachable: the follower says so once
        except OSError as exc:
            return None, f"Could not look for checkpoints: {exc}"
        if newest is None:
            return None, None
        name, found = newest
        look = (name, found.identity)
        if look == self._seen and saves == self._saves_seen:
            return None, None
        try:
            tail = self.source.read_range(name, max(0, found.size - TAIL_BYTES), TAIL_BYTES)
            if tail == self._reported_tail:
                self._seen, self._saves_seen = look, saves
                return None, None
            fetched: FetchedFile = self.source.fetch(name)
            with open(fetched.path, "rb") as handle:
                handle.seek(max(0, fetched.stat.size - TAIL_BYTES))
                fetched_tail = handle.read(TAIL_BYTES)
        except FileNotFoundError:
            return None, f"{name} was replaced while it was being read; trying again."
        except ConnectionError:
            raise
        except OSError as exc:
            return None, f"Could not fetch {name}: {exc}"
        got = fetched.stat
        self._seen, self._saves_seen = (name, got.identity), saves
        if fetched_tail == self._reported_tail:  # replaced again between the look and the fetch, by the same
            return None, None
        self._reported_tail = fetched_tail
        return CheckpointFile(name, str(fetched.path), got.size, got.mtime_ns, got.inode), None

    def retry(self) -> None:
        """Report the current checkpoint again on the next poll (its load failed, e.g. it vanished)."""
        self._seen = None
        self._reported_tail = None
