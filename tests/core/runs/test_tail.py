"""MetricsTail on real files: complete lines only, replaced and truncated files, garbage, vanishing files."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

from vae_desktop.core.runs.lines import format_batch_line, format_line
from vae_desktop.core.runs.schema import BatchRow, HeaderRow
from vae_desktop.core.runs.source import LocalSource
from vae_desktop.core.runs.tail import MetricsTail


def _line(g: int) -> bytes:
    return format_batch_line(BatchRow(g, 1, g, 100.0 + g, 1.0, 10.0, 1.7e9 + g))


def _lines(first: int, last: int) -> bytes:
    return b"".join(_line(g) for g in range(first, last + 1))


def _write(path, data: bytes, mode: str = "ab") -> None:
    with open(path, mode) as handle:
        handle.write(data)


def _replace(path, data: bytes) -> None:
    """What rsync and sync clients do: write a copy beside the file and rename it over."""
    temp = path.with_name(".metrics.jsonl.sync")
    temp.write_bytes(data)
    os.replace(temp, path)


def _steps(update) -> list[int]:
    return [int(g) for g in update.batch["global_step"]]


def test_only_complete_lines_are_consumed(tmp_path):
    path = tmp_path / "metrics.jsonl"
    line = _line(2)
    _write(path, _line(1) + line[:20])
    tail = MetricsTail(LocalSource(tmp_path))
    assert _steps(tail.poll()) == [1]
    assert _steps(tail.poll()) == []  # the half line waits
    _write(path, line[20:])
    assert _steps(tail.poll()) == [2]


_SLOW_WRITER = textwrap.dedent("""
    import os, sys, time
    from vae_desktop.core.runs.lines import format_batch_line
    from vae_desktop.core.runs.schema import BatchRow
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    for g in range(1, 10_000):
        line = format_batch_line(BatchRow(g, 1, g, 100.0 + g, 1.0, 10.0, 1.7e9 + g))
        half = len(line) // 2
        os.write(fd, line[:half])
        if g == int(sys.argv[2]):
            print("half", flush=True)
            time.sleep(60)
        time.sleep(0.002)
        os.write(fd, line[half:])
""")


def test_a_writer_killed_mid_line_leaves_only_whole_rows_to_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    child = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(path), "150"], stdout=subprocess.PIPE,
                             text=True)
    tail = MetricsTail(LocalSource(tmp_path))
    seen: list[int] = []
    try:
        while len(seen) < 140:  # follow it while it writes, one half line at a time
            update = tail.poll()
            seen += _steps(update)
            assert update.malformed == 0 and child.poll() is None
        assert child.stdout.readline() == "half\n"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    seen += _steps(tail.poll())
    assert seen == list(range(1, 150))  # every row once, in order, and not the half-written 150th
    assert not path.read_bytes().endswith(b"\n")
    assert _steps(tail.poll()) == []


def test_a_file_replaced_by_a_shorter_copy_is_read_again_from_the_start(tmp_path):
    path = tmp_path / "metrics.jsonl"
    _write(path, _lines(1, 50))
    tail = MetricsTail(LocalSource(tmp_path))
    assert _steps(tail.poll()) == list(range(1, 51))
    _replace(path, _lines(1, 20))
    update = tail.poll()
    assert update.restarted and _steps(update) == list(range(1, 21))
    _write(path, _lines(21, 22))
    update = tail.poll()
    assert not update.restarted and _steps(update) == [21, 22]


def test_a_synced_copy_that_only_grew_carries_on_without_restarting(tmp_path):
    path = tmp_path / "metrics.jsonl"
    _write(path, _lines(1, 50))
    tail = MetricsTail(LocalSource(tmp_path))
    tail.poll()
    _replace(path, _lines(1, 60))  # a new inode, the same beginning, ten more lines
    update = tail.poll()
    assert not update.restarted and _steps(update) == list(range(51, 61))


def test_a_rotated_or_rewritten_file_of_the_same_length_restarts(tmp_path):
    path = tmp_path / "metrics.jsonl"
    _write(path, _lines(1, 50))
    tail = MetricsTail(LocalSource(tmp_path))
    tail.poll()
    _replace(path, _lines(101, 150))  # another log, as long as the old one
    update = tail.poll()
    assert update.restarted and _steps(update) == list(range(101, 151))
    _write(path, _lines(201, 260), mode="wb")  # truncated in place and rewritten longer
    update = tail.poll()
    assert update.restarted and _steps(update) == list(range(201, 261))


def test_a_copy_of_another_run_with_the_same_last_lines_restarts(tmp_path):
    path = tmp_path / "metrics.jsonl"
    _write(path, format_line(HeaderRow("a" * 32).to_dict()) + _lines(1, 50))
    tail = MetricsTail(LocalSource(tmp_path))
    tail.poll()
    _replace(path, format_line(HeaderRow("b" * 32).to_dict()) + _lines(1, 60))  # another run, same numbers
    update = tail.poll()
    assert update.restarted and _steps(update) == list(range(1, 61)) and tail.header.run_id == "b" * 32


def test_garbage_is_skipped_and_counted_and_reading_goes_on(tmp_path):
    path = tmp_path / "metrics.jsonl"
    _write(path, _lines(1, 3) + b"garbage\n{not json}\n\xff\xfe\n" + _lines(4, 5) + _line(6)[:30])
    tail = MetricsTail(LocalSource(tmp_path))
    update = tail.poll()
    assert _steps(update) == [1, 2, 3, 4, 5] and update.malformed == 3
    _write(path, _line(6)[30:] + b"\n\n" + _lines(7, 7))
    update = tail.poll()
    assert _steps(update) == [6, 7] and update.malformed == 0 and tail.malformed_total == 3


def test_a_vanishing_file_is_reported_missing_and_never_raises(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(LocalSource(tmp_path))
    assert tail.poll().missing
    _write(path, _lines(1, 5))
    assert _steps(tail.poll()) == [1, 2, 3, 4, 5]
    path.unlink()
    assert tail.poll().missing
    _write(path, _lines(1, 7))  # the same log back (a sync client re-creating it)
    update = tail.poll()
    assert not update.restarted and _steps(update) == [6, 7]
    (tmp_path / "gone").mkdir()
    os.replace(tmp_path, tmp_path.with_name(tmp_path.name + "-moved"))  # the whole folder goes
    assert tail.poll().missing


class _VanishAfterStat(LocalSource):
    """A real folder whose file is deleted between the stat and the read, as a sync client might."""

    def stat(self, name):
        found = super().stat(name)
        if found is not None:
            os.unlink(self.path(name))
        return found


def test_a_file_vanishing_between_stat_and_read_is_missing_not_an_error(tmp_path):
    _write(tmp_path / "metrics.jsonl", _lines(1, 3))
    update = MetricsTail(_VanishAfterStat(tmp_path)).poll()
    assert update.missing and update.problem is None and _steps(update) == []


def test_a_log_from_a_newer_major_format_is_refused(tmp_path):
    header = {**HeaderRow("r").to_dict(), "format_version": "2.0"}
    _write(tmp_path / "metrics.jsonl", format_line(header) + _lines(1, 3))
    tail = MetricsTail(LocalSource(tmp_path))
    update = tail.poll()
    assert "newer VAE Desktop" in update.problem and _steps(update) == []
    assert "newer VAE Desktop" in tail.poll().problem


def test_a_backlog_larger_than_one_read_arrives_over_several_polls(tmp_path):
    _write(tmp_path / "metrics.jsonl", _lines(1, 5000))
    tail = MetricsTail(LocalSource(tmp_path), max_read=50_000, max_line=10_000)
    steps, polls = [], 0
    while True:
        update = tail.poll()
        steps += _steps(update)
        polls += 1
        if not update.more:
            break
    assert steps == list(range(1, 5001)) and polls > 5
    assert np.all(np.diff(steps) == 1)


def test_a_line_without_end_beyond_the_limit_is_skipped(tmp_path):
    _write(tmp_path / "metrics.jsonl", _lines(1, 2) + b"x" * 5000)
    tail = MetricsTail(LocalSource(tmp_path), max_read=1000, max_line=1000)
    update = tail.poll()
    assert _steps(update) == [1, 2]
    for _ in range(10):
        update = tail.poll()
    _write(tmp_path / "metrics.jsonl", b"\n" + _lines(3, 3))
    steps = []
    for _ in range(10):
        steps += _steps(tail.poll())
    assert steps == [3] and tail.malformed_total >= 1


def test_rows_are_plain_numpy_copies(tmp_path):
    _write(tmp_path / "metrics.jsonl", _lines(1, 3))
    update = MetricsTail(LocalSource(tmp_path)).poll()
    assert set(update.batch) == {"global_step", "epoch", "step", "recon", "kl", "samples_per_s", "time"}
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float64 and v.flags.owndata for v in update.batch.values())
    assert json.loads(_line(1))["recon"] == update.batch["recon"][0]
