"""A real OpenSSH server on localhost for the SFTP tests: throwaway host and user keys, its own
free port and config, run in the foreground (-D -e) and stopped with everything it started."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def missing_reason() -> str | None:
    """Why the tests cannot run here, or None."""
    if not os.access(SSHD, os.X_OK):
        return f"OpenSSH server not installed ({SSHD}); apt-get install openssh-server"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen not installed (openssh-client)"
    try:
        import paramiko  # noqa: F401
    except ImportError:
        return "paramiko not installed (pip install 'vae-desktop[remote]')"
    return None


@dataclass
class SshServer:
    folder: Path
    port: int
    user: str
    host_key: Path
    user_key: Path
    client_config: Path  # an ~/.ssh/config naming this server "testrun", with its key and known_hosts
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.folder / "sshd_config")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd did not start: {self.process.stderr.read()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening in 15 s")

    def stop(self) -> None:
        """Stop the server and the session processes it forked (they outlive a stopped listener)."""
        if self.process is None:
            return
        for pid in _descendants(self.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.kill()
        self.process.wait(10)
        self.process.stderr.close()
        self.process = None


def make_server(folder: Path) -> SshServer:
    folder.mkdir(parents=True, exist_ok=True)
    host_key, user_key = folder / "host_key", folder / "user_key"
    for key in (host_key, user_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (folder / "authorized_keys").write_text(user_key.with_suffix(".pub").read_text())
    port = _free_port()
    (folder / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "PidFile none",
        "PermitRootLogin prohibit-password", "Subsystem sftp internal-sftp", "LogLevel ERROR", "",
    ]))
    host_public = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_public}\n")
    user = getpass.getuser()
    client_config = folder / "ssh_config"
    client_config.write_text("\n".join([
        "Host testrun", "  HostName 127.0.0.1", f"  Port {port}", f"  User {user}", f"  IdentityFile {user_key}",
        f"  UserKnownHostsFile {folder / 'known_hosts'}", "",
    ]))
    if os.geteuid() == 0:
        # Run as root, sshd insists on its privilege-separation folder, which the package's service creates.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    return SshServer(folder, port, user, host_key, user_key, client_config)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A started sshd for a module's tests, stopped after them; the tests skip with the reason when none
    can start. Use as `server = pytest.fixture(scope="module", name="server")(sshd.running_server)`."""
    ssh = make_server(tmp_path_factory.mktemp("sshd"))
    try:
        ssh.start()
    except RuntimeError as exc:
        pytest.skip(f"could not start a local sshd: {exc}")
    yield ssh
    ssh.stop()
