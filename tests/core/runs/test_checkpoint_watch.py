"""CheckpointWatch: a new complete checkpoint is reported once; temp files and vanishing files are survived."""

import dataclasses
import os
from pathlib import Path

from vae_desktop.core.runs.checkpoint_watch import CheckpointWatch, newest_checkpoint
from vae_desktop.core.runs.source import LocalSource

from .conftest import epoch_metrics, new_writer


def test_each_new_checkpoint_is_reported_once(run_dir):
    writer = new_writer(run_dir, epochs=3).start()
    watch = CheckpointWatch(LocalSource(run_dir))
    assert watch.poll() == (None, None)
    writer.save_checkpoint(b"one", epoch=epoch_metrics(1))
    first, problem = watch.poll()
    assert problem is None and first.name == "checkpoints/latest.vaeckpt"
    assert open(first.path, "rb").read() == b"one"
    assert watch.poll() == (None, None)
    writer.save_checkpoint(b"two", epoch=epoch_metrics(2))  # same size, new file renamed into place
    second, _ = watch.poll()
    assert second is not None and second.inode != first.inode and open(second.path, "rb").read() == b"two"
    writer.stop()


def test_temp_files_of_a_save_in_progress_are_never_reported(run_dir):
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / ".latest.vaeckpt.k2j3.tmp").write_bytes(b"half a checkpoint")
    assert newest_checkpoint(LocalSource(run_dir)) is None
    assert CheckpointWatch(LocalSource(run_dir)).poll() == (None, None)


def test_older_single_file_folders_and_kept_checkpoints_are_found(tmp_path):
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "model.vaeckpt").write_bytes(b"old layout")
    assert newest_checkpoint(LocalSource(legacy))[0] == "model.vaeckpt"
    kept = tmp_path / "kept" / "checkpoints"
    kept.mkdir(parents=True)
    for i, name in enumerate(["epoch-0002.vaeckpt", "epoch-0004.vaeckpt", "best.vaeckpt"]):
        (kept / name).write_bytes(b"x")
        os.utime(kept / name, ns=(10**18 + i * 10**9, 10**18 + [0, 2, 1][i] * 10**9))
    assert newest_checkpoint(LocalSource(kept.parent))[0] == "checkpoints/epoch-0004.vaeckpt"


class _StatLikeSftp(LocalSource):
    """A real folder seen as SFTP shows it: no inode, whole-second mtimes."""

    def stat(self, name):
        found = super().stat(name)
        if found is None:
            return None
        return dataclasses.replace(found, inode=None, mtime_ns=found.mtime_ns // 10**9 * 10**9)


def test_a_new_save_with_the_same_size_and_second_is_reported(run_dir):
    writer = new_writer(run_dir).start()
    writer.save_checkpoint(b"state A")
    latest = run_dir / "checkpoints" / "latest.vaeckpt"
    watch = CheckpointWatch(_StatLikeSftp(run_dir))
    assert watch.poll(saves=1)[0] is not None
    assert watch.poll(saves=1)[0] is None
    mtime = latest.stat().st_mtime_ns
    writer.save_checkpoint(b"state B")  # same size
    os.utime(latest, ns=(mtime, mtime))  # and the same mtime: the stat cannot tell
    found = watch.poll(saves=2)[0]
    assert found is not None and Path(found.path).read_bytes() == b"state B"
    writer.stop()


def test_the_same_content_seen_again_is_not_reported_again(run_dir):
    writer = new_writer(run_dir).start()
    writer.save_checkpoint(b"state 1")
    watch = CheckpointWatch(LocalSource(run_dir))
    assert watch.poll(saves=1)[0] is not None
    writer.save_checkpoint(b"state 1")  # rewritten with identical bytes (or touched by a sync tool)
    assert watch.poll(saves=2)[0] is None
    writer.save_checkpoint(b"state 2")
    assert watch.poll(saves=3)[0] is not None
    writer.stop()


class _ReplacedWhileFetching(LocalSource):
    """A real folder whose checkpoint is deleted between the listing and the fetch."""

    def fetch(self, name):
        os.unlink(self.path(name))
        return super().fetch(name)


def test_a_checkpoint_vanishing_mid_read_is_a_problem_to_retry_not_a_crash(run_dir):
    writer = new_writer(run_dir).start()
    writer.save_checkpoint(b"state")
    found, problem = CheckpointWatch(_ReplacedWhileFetching(run_dir)).poll()
    assert found is None and "trying again" in problem
    writer.save_checkpoint(b"state 2")
    watch = CheckpointWatch(LocalSource(run_dir))
    assert watch.poll()[0] is not None
    watch.retry()  # the loader could not use it: report it again
    assert watch.poll()[0] is not None
    writer.stop()


