"""Remote run addresses as people type them for ssh and scp.

    user@host:/path/to/run      scp style (a relative path is relative to the login folder)
    host:runs/today             user, port and keys from ~/.ssh/config
    ssh://user@host:2222/path   URL style, the only one with a port
    [::1]:/path                 IPv6 in brackets

Parsing needs no SSH library, so the CLI and the drop handler can tell a remote address from a
local path without importing paramiko.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from vae_desktop.core.runs.errors import RunFolderError

_SCP = re.compile(r"^(?:(?P<user>[^@/:\s]+)@)?(?P<host>\[[0-9A-Fa-f:.%\w]+\]|[^@/:\[\]\s\\]+):(?P<path>.*)$")


@dataclass(frozen=True)
class RemoteAddress:
    host: str  # as typed: a host name, an alias from ~/.ssh/config or an IP address
    path: str  # "" means the login folder
    user: str | None = None
    port: int | None = None  # None: from ~/.ssh/config, else 22

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        if self.port is not None:
            path = self.path if self.path.startswith("/") else f"/~/{self.path}"
            return f"ssh://{user}{host}:{self.port}{path}"
        return f"{user}{host}:{self.path}"


def parse_remote_address(text: str) -> RemoteAddress | None:
    """The remote address in `text`, or None when it reads as a local path (C:\\runs, ./a:b, /x:y)."""
    text = str(text).strip()
    if text.startswith("ssh://"):
        return _parse_url(text)
    if "://" in text or text.startswith(("/", ".", "~", "\\")):
        return None
    match = _SCP.match(text)
    if match is None:
        return None
    host = match["host"].strip("[]")
    if len(host) == 1 and os.name == "nt":
        return None  # "C:" is a drive letter there, not a host
    return RemoteAddress(host=host, path=match["path"], user=match["user"])


def _parse_url(text: str) -> RemoteAddress:
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise RunFolderError(f"{text} has an invalid port.") from None
    if not parts.hostname:
        raise RunFolderError(f"{text} names no host.")
    path = unquote(parts.path)
    if path.startswith("/~/") or path == "/~":
        path = path[3:]  # ssh://host/~/runs: relative to the login folder
    return RemoteAddress(host=parts.hostname, path=path, user=unquote(parts.username) if parts.username else None,
                         port=port)
