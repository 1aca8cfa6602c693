"""SftpSource: a run folder on another machine, read over SSH without mounting anything.

paramiko (the optional `[remote]` extra) does the SSH; this module only maps the RunSource calls
onto SFTP and turns SSH failures into OSErrors with a sentence for the user. It uses what `ssh`
would use: ~/.ssh/config (HostName, User, Port, IdentityFile, UserKnownHostsFile, ProxyCommand,
ProxyJump via `ssh -W`), the user's keys and the SSH agent. Unknown host keys are refused, as
`ssh` with StrictHostKeyChecking would; the message says how to accept one.

A dropped connection makes the call raise ConnectionError (readers show it and poll again); the
next call reconnects, at most once every `retry_after_s` so a dead host does not stall each poll.
SFTP tells no inode and whole-second mtimes; readers allow for that (see tail.py and
checkpoint_watch.py). Checkpoints are fetched into a private temp folder removed on close().
"""

from __future__ import annotations

import getpass
import os
import posixpath
import shlex
import shutil
import stat as stat_module
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from vae_desktop.core.runs.address import RemoteAddress
from vae_desktop.core.runs.source import FetchedFile, FileStat, RunSource, check_name

T = TypeVar("T")
_PREFETCH_FROM = 1 << 20  # reads larger than this pipeline their requests (much faster over latency)
_COPIES_KEPT = 2  # fetched copies kept per name: the previous one may still be loading


def _paramiko() -> Any:
    try:
        import paramiko
    except ImportError:
        raise ConnectionError("Following a run over SSH needs paramiko: pip install 'vae-desktop[remote]'.") from None
    return paramiko


class SftpSource(RunSource):
    is_local = False

    def __init__(self, address: RemoteAddress, ssh_config: str | os.PathLike[str] | None = None,
                 connect_timeout_s: float = 15.0, retry_after_s: float = 5.0) -> None:
        self.address = address
        self.ssh_config = Path(ssh_config) if ssh_config is not None else Path.home() / ".ssh" / "config"
        self.connect_timeout_s = connect_timeout_s
        self.retry_after_s = retry_after_s
        self._client: Any = None
        self._sftp_client: Any = None
        self._root = ""
        self._failed_at: float | None = None
        self._failure: ConnectionError | None = None
        self._cache: Path | None = None
        self._copies: dict[str, list[Path]] = {}

    def describe(self) -> str:
        return str(self.address)

    # ------------------------------------------------------------------------------ RunSource

    def stat(self, name: str) -> FileStat | None:
        def run(sftp: Any) -> FileStat | None:
            try:
                attrs = sftp.stat(self._path(name))
            except FileNotFoundError:
                return None
            return _file_stat(attrs)

        return self._call(run)

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        def run(sftp: Any) -> bytes:
            with sftp.open(self._path(name), "rb") as handle:
                handle.seek(offset)
                if length > _PREFETCH_FROM:
                    handle.prefetch(offset + length)
                return _read_exactly(handle, length)

        return self._call(run)

    def read_bytes(self, name: str) -> bytes:
        def run(sftp: Any) -> bytes:
            with sftp.open(self._path(name), "rb") as handle:
                size = handle.stat().st_size
                if size > _PREFETCH_FROM:
                    handle.prefetch(size)
                return _read_exactly(handle, size)

        return self._call(run)

    def list_dir(self, name: str = "") -> list[str]:
        def run(sftp: Any) -> list[str]:
            try:
                return sorted(sftp.listdir(self._path(name)))
            except (FileNotFoundError, NotADirectoryError):
                return []

        return self._call(run)

    def fetch(self, name: str) -> FetchedFile:
        """Download `name` into a local temp file (the open handle keeps reading the file that was
        there when it opened, even if a new one is renamed over it meanwhile)."""

        def run(sftp: Any) -> FetchedFile:
            cache = self._cache_dir()
            partial = cache / f".{uuid.uuid4().hex}.part"
            with sftp.open(self._path(name), "rb") as handle:
                found = _file_stat(handle.stat())
                if found.size > _PREFETCH_FROM:
                    handle.prefetch(found.size)
                try:
                    with open(partial, "wb") as out:
                        copied = _copy(handle, out, found.size)
                    if copied != found.size:
                        raise FileNotFoundError(f"{name} changed while it was downloaded")
                    local = cache / f"{uuid.uuid4().hex[:12]}-{posixpath.basename(name)}"
                    os.replace(partial, local)
                finally:
                    if partial.exists():
                        partial.unlink()
            self._remember_copy(name, local)
            return FetchedFile(name, local, found)

        return self._call(run)

    def close(self) -> None:
        self._disconnect()
        if self._cache is not None:
            shutil.rmtree(self._cache, ignore_errors=True)
            self._cache = None
            self._copies.clear()

    # ------------------------------------------------------------------------------ connection

    def _call(self, operation: Callable[[Any], T]) -> T:
        sftp = self._connected()
        paramiko = _paramiko()
        try:
            return operation(sftp)
        except OSError as exc:
            if exc.errno is not None:  # a real file error from the server (missing, permission, ...)
                raise
            self._disconnect()
            raise ConnectionError(f"Lost the connection to {self.address.host}: {exc}") from None
        except (EOFError, paramiko.SSHException) as exc:
            self._disconnect()
            raise ConnectionError(f"Lost the connection to {self.address.host}: {exc or type(exc).__name__}") from None

    def _connected(self) -> Any:
        if self._sftp_client is not None:
            return self._sftp_client
        if self._failure is not None and self._failed_at is not None:
            if time.monotonic() - self._failed_at < self.retry_after_s:
                raise self._failure
        try:
            self._connect()
        except ConnectionError as exc:
            self._failure, self._failed_at = exc, time.monotonic()
            raise
        self._failure = self._failed_at = None
        return self._sftp_client

    def _connect(self) -> None:
        paramiko = _paramiko()
        options = self._ssh_options(paramiko)
        host = options.get("hostname", self.address.host)
        port = self.address.port or int(options.get("port", 22))
        user = self.address.user or options.get("user") or getpass.getuser()
        where = f"{user}@{host}" + (f":{port}" if port != 22 else "")
        client = paramiko.SSHClient()
        try:
            client.load_system_host_keys()  # ~/.ssh/known_hosts
            for path in str(options.get("userknownhostsfile", "")).split():
                expanded = Path(os.path.expanduser(path))
                if expanded.is_file():
                    client.load_host_keys(str(expanded))
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            keys = [os.path.expanduser(p) for p in options.get("identityfile", [])]
            client.connect(
                host, port, username=user, key_filename=[k for k in keys if os.path.exists(k)] or None,
                allow_agent=True, look_for_keys=True, timeout=self.connect_timeout_s,
                banner_timeout=self.connect_timeout_s, auth_timeout=self.connect_timeout_s,
                sock=_proxy(paramiko, options, host, port),
            )
            transport = client.get_transport()
            if transport is not None:
                transport.set_keepalive(30)
            sftp = client.open_sftp()
            self._root = _remote_root(sftp, self.address.path)
        except paramiko.BadHostKeyException:
            client.close()
            raise ConnectionError(f"The host key of {where} has CHANGED since it was last accepted; not "
                                  "connecting (check ~/.ssh/known_hosts).") from None
        except paramiko.AuthenticationException:
            client.close()
            raise ConnectionError(f"{where} refused the SSH keys offered (from ~/.ssh/config, ~/.ssh and the "
                                  "agent).") from None
        except paramiko.SSHException as exc:
            client.close()
            text = str(exc)
            if "not found in known_hosts" in text:
                raise ConnectionError(f"The host key of {where} is not known. Connect once with `ssh "
                                      f"{self._ssh_target(user, host, port)}` to accept it, then try again.") from None
            raise ConnectionError(f"SSH to {where} failed: {text}") from None
        except (OSError, EOFError) as exc:
            client.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            raise ConnectionError(f"Could not connect to {where}: {reason}.") from None
        self._client, self._sftp_client = client, sftp

    def _ssh_options(self, paramiko: Any) -> dict[str, Any]:
        if not self.ssh_config.is_file():
            return {}
        try:
            config = paramiko.SSHConfig.from_path(str(self.ssh_config))
        except (OSError, paramiko.ConfigParseError) as exc:
            raise ConnectionError(f"Could not read {self.ssh_config}: {exc}") from None
        return dict(config.lookup(self.address.host))

    @staticmethod
    def _ssh_target(user: str, host: str, port: int) -> str:
        return f"-p {port} {user}@{host}" if port != 22 else f"{user}@{host}"

    def _disconnect(self) -> None:
        client, self._client, self._sftp_client = self._client, None, None
        if client is not None:
            try:
                client.close()
            except Exception:  # closing a dead connection may fail in many ways; it is gone anyway
                pass

    # ------------------------------------------------------------------------------ helpers

    def _path(self, name: str) -> str:
        clean = check_name(name)
        return posixpath.join(self._root, clean) if clean else self._root

    def _cache_dir(self) -> Path:
        if self._cache is None:
            self._cache = Path(tempfile.mkdtemp(prefix="vae-desktop-sftp-"))
        return self._cache

    def _remember_copy(self, name: str, local: Path) -> None:
        copies = self._copies.setdefault(name, [])
        copies.append(local)
        while len(copies) > _COPIES_KEPT:
            old = copies.pop(0)
            try:
                old.unlink()
            except OSError:
                pass


def _remote_root(sftp: Any, path: str) -> str:
    """The folder as an absolute remote path; one that does not exist yet (a run about to start)
    is kept as typed, relative to the login folder."""
    try:
        return sftp.normalize(path or ".")
    except FileNotFoundError:
        return path if path.startswith("/") else posixpath.join(sftp.normalize("."), path)


def _file_stat(attrs: Any) -> FileStat:
    mode = attrs.st_mode or 0
    return FileStat(int(attrs.st_size or 0), int(attrs.st_mtime or 0) * 1_000_000_000, None,
                    stat_module.S_ISDIR(mode))


def _read_exactly(handle: Any, length: int) -> bytes:
    parts, remaining = [], length
    while remaining > 0:
        part = handle.read(min(remaining, 1 << 20))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _copy(handle: Any, out: Any, size: int) -> int:
    copied = 0
    while copied < size:
        part = handle.read(min(size - copied, 1 << 20))
        if not part:
            break
        out.write(part)
        copied += len(part)
    return copied


def _proxy(paramiko: Any, options: dict[str, Any], host: str, port: int) -> Any:
    """A ProxyCommand socket for ProxyCommand or ProxyJump in ~/.ssh/config, else None."""
    command = options.get("proxycommand")
    if not command and options.get("proxyjump") and shutil.which("ssh"):
        jump = str(options["proxyjump"]).split(",")[0]
        command = f"ssh -W {shlex.quote(host)}:{port} {shlex.quote(jump)}"
    if not command or str(command).lower() == "none":
        return None
    try:
        return paramiko.ProxyCommand(str(command))
    except (OSError, paramiko.SSHException) as exc:
        raise ConnectionError(f"The ProxyCommand for {host} did not start: {exc}") from None

