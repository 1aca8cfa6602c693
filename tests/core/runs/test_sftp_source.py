"""SftpSource against a real OpenSSH server started on localhost (skipped with the reason without one)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import sshd

pytestmark = pytest.mark.skipif(sshd.missing_reason() is not None, reason=str(sshd.missing_reason()))

from vae_desktop.core.runs.address import parse_remote_address  # noqa: E402
from vae_desktop.core.runs.errors import RunFolderError  # noqa: E402
from vae_desktop.core.runs.follower import RunFollower  # noqa: E402
from vae_desktop.core.runs.history import RunHistory  # noqa: E402
from vae_desktop.core.runs.opening import classify_path, open_run, source_for  # noqa: E402
from vae_desktop.core.runs.source import LocalSource  # noqa: E402
from vae_desktop.core.runs.state import FINISHED  # noqa: E402
from vae_desktop.core.runs.tail import MetricsTail  # noqa: E402

from .conftest import batch, epoch_metrics, new_writer  # noqa: E402

CHILD = Path(__file__).with_name("writer_child.py")


server = pytest.fixture(scope="module", name="server")(sshd.running_server)


def _source(server, folder: Path, **kwargs):
    from vae_desktop.core.runs.sftp_source import SftpSource

    return SftpSource(parse_remote_address(f"testrun:{folder}"), ssh_config=server.client_config, **kwargs)


def _finished_run(folder: Path) -> None:
    with new_writer(folder, epochs=2) as writer:
        for g in range(1, 21):
            writer.log_batch(batch(g))
            if g % 10 == 0:
                writer.log_epoch(epoch_metrics(g // 10))
                writer.save_checkpoint(f"weights {g // 10}".encode() * 1000, epoch=epoch_metrics(g // 10))


def test_the_sftp_source_answers_like_the_local_one(server, run_dir):
    _finished_run(run_dir)
    local = LocalSource(run_dir)
    with _source(server, run_dir) as remote:
        assert remote.list_dir() == local.list_dir() and remote.list_dir("checkpoints") == local.list_dir("checkpoints")
        for name in ("run.json", "metrics.jsonl", "checkpoints/latest.vaeckpt"):
            assert remote.read_bytes(name) == local.read_bytes(name)
            assert remote.read_range(name, 7, 100) == local.read_range(name, 7, 100)
            assert remote.stat(name).size == local.stat(name).size
            assert remote.stat(name).mtime_ns // 10**9 == local.stat(name).mtime_ns // 10**9
        assert remote.stat("nope") is None and remote.list_dir("nope") == [] and not remote.exists("nope")
        assert remote.stat("checkpoints").is_dir
        with pytest.raises(FileNotFoundError):
            remote.read_bytes("nope")
        fetched = remote.fetch("checkpoints/latest.vaeckpt")
        assert fetched.path.read_bytes() == local.read_bytes("checkpoints/latest.vaeckpt")
        assert fetched.path.parent != run_dir
    assert not fetched.path.exists()  # fetched copies go with the source


def test_a_remote_run_opens_with_the_same_history_as_locally(server, run_dir):
    _finished_run(run_dir)
    here = open_run(LocalSource(run_dir))
    target = classify_path(f"testrun:{run_dir}")
    remote_source = source_for(target, ssh_config=server.client_config)
    there = open_run(remote_source)
    try:
        for name, values in here.history.batch_arrays().items():
            assert list(there.history.batch_arrays()[name]) == list(values)
        assert there.history.epoch_metrics == here.history.epoch_metrics
        assert there.status.state == FINISHED and there.status.info == here.status.info
        assert Path(there.checkpoint.path).read_bytes() == (run_dir / "checkpoints/latest.vaeckpt").read_bytes()
    finally:
        remote_source.close()


def test_a_url_with_user_and_port_connects_too(server, run_dir):
    _finished_run(run_dir)
    from vae_desktop.core.runs.sftp_source import SftpSource

    config = server.folder / "known_hosts_only"
    config.write_text(f"Host 127.0.0.1\n  IdentityFile {server.user_key}\n"
                      f"  UserKnownHostsFile {server.folder / 'known_hosts'}\n")
    address = parse_remote_address(f"ssh://{server.user}@127.0.0.1:{server.port}{run_dir}")
    with SftpSource(address, ssh_config=config) as source:
        assert source.read_bytes("run.json") == (run_dir / "run.json").read_bytes()


class _CountingSftp:
    """Counts the downloads of a real SftpSource."""

    def __init__(self, source) -> None:
        self.source, self.fetches = source, 0
        original = source.fetch

        def fetch(name):
            self.fetches += 1
            return original(name)

        source.fetch = fetch


def test_following_over_sftp_fetches_a_checkpoint_only_when_it_changed(server, run_dir):
    child = subprocess.Popen([sys.executable, str(CHILD), str(run_dir), "--epochs", "3", "--steps", "20",
                              "--step-s", "0.02"], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "started\n"
    source = _source(server, run_dir)
    counting = _CountingSftp(source)
    follower, history, checkpoints = RunFollower(source), RunHistory(), []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            update = follower.poll()
            history.apply(update)
            if update.checkpoint is not None:
                checkpoints.append(Path(update.checkpoint.path).read_bytes())
            if update.status.state == FINISHED:
                break
            time.sleep(0.05)
        for _ in range(5):
            assert follower.poll().checkpoint is None  # idle: nothing fetched again
    finally:
        child.wait(30)
        source.close()
    assert update.status.state == FINISHED
    assert list(history.batch_arrays()["global_step"]) == list(range(1, 61))
    assert checkpoints[-1] == b"weights 3" and counting.fetches == len(checkpoints) <= 3


def test_a_shorter_copy_and_a_same_size_rewrite_restart_the_tail_without_inodes(server, run_dir):
    run_dir.mkdir()
    path = run_dir / "metrics.jsonl"
    lines = [b'{"type":"batch","global_step":%d,"epoch":1,"step":%d,"recon":1.0,"kl":1.0,"samples_per_s":1.0,'
             b'"time":1.0}\n' % (g, g) for g in range(1, 31)]
    path.write_bytes(b"".join(lines))
    with _source(server, run_dir) as source:
        tail = MetricsTail(source)
        assert tail.poll().batch_rows == 30
        temp = run_dir / ".copy"
        temp.write_bytes(b"".join(lines[:10]))
        os.replace(temp, path)
        update = tail.poll()
        assert update.restarted and update.batch_rows == 10
        rewritten = b"".join(lines[:10]).replace(b'"recon":1.0', b'"recon":2.0')  # same length, other content
        path.write_bytes(rewritten)
        os.utime(path, (time.time() + 5, time.time() + 5))  # SFTP shows whole seconds only
        update = tail.poll()
        assert update.restarted and list(update.batch["recon"]) == [2.0] * 10


def test_an_unknown_host_key_is_refused_with_how_to_accept_it(server, run_dir):
    _finished_run(run_dir)
    config = server.folder / "no_known_hosts"
    config.write_text(f"Host testrun\n  HostName 127.0.0.1\n  Port {server.port}\n  IdentityFile {server.user_key}\n"
                      f"  UserKnownHostsFile {server.folder / 'empty_known_hosts'}\n")
    from vae_desktop.core.runs.sftp_source import SftpSource

    source = SftpSource(parse_remote_address(f"testrun:{run_dir}"), ssh_config=config)
    update = RunFollower(source).poll()
    assert update.problems == [f"The host key of {server.user}@127.0.0.1:{server.port} is not known. Connect once "
                               f"with `ssh -p {server.port} {server.user}@127.0.0.1` to accept it, then try again."]
    with pytest.raises(RunFolderError, match="host key .* is not known"):
        open_run(source)


def test_a_lost_connection_is_reported_and_the_next_poll_reconnects(server, run_dir):
    _finished_run(run_dir)
    source = _source(server, run_dir, retry_after_s=0.0)
    follower = RunFollower(source)
    try:
        assert follower.poll().batch_rows == 20
        server.stop()  # the server and its sessions die: the connection is gone
        update = follower.poll()
        assert update.problems and ("connection" in update.problems[0].lower())
        assert update.status.info is not None  # what was known stays
        server.start()
        with open(run_dir / "metrics.jsonl", "ab") as handle:
            handle.write(b'{"type":"batch","global_step":21,"epoch":3,"step":1,"recon":1.0,"kl":1.0,'
                         b'"samples_per_s":1.0,"time":1.0}\n')
        update = follower.poll()
        assert update.problems == [] and update.batch_rows == 1
    finally:
        source.close()
        if server.process is None:
            server.start()


def test_a_remote_folder_that_does_not_exist_yet_waits(server, tmp_path):
    with _source(server, tmp_path / "not-yet") as source:
        follower = RunFollower(source)
        assert follower.poll().status.state == "unknown"
        _finished_run(tmp_path / "not-yet")
        assert follower.poll().batch_rows == 20


def test_a_remote_run_is_fetched_into_a_new_local_run_folder(server, run_dir, tmp_path):
    from vae_desktop.core.runs.copying import fetch_run

    _finished_run(run_dir)
    with _source(server, run_dir) as source:
        folder = fetch_run(source, tmp_path / "runs", "shapes", 2)
    for name in ("run.json", "metrics.jsonl", "metrics.csv", "checkpoints/latest.vaeckpt"):
        assert (folder / name).read_bytes() == (run_dir / name).read_bytes(), name
    assert [p.name for p in (folder / "checkpoints").iterdir()] == ["latest.vaeckpt"]
    assert open_run(LocalSource(folder)).status.state == FINISHED
    with _source(server, tmp_path / "nowhere") as source, pytest.raises(RunFolderError, match="no checkpoint yet"):
        fetch_run(source, tmp_path / "runs", "shapes", 2)
