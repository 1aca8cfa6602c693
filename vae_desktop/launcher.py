"""Put VAE Desktop in the Linux applications menu and on the desktop, and take it out again.

`install_launcher()` writes, into the user's own folders (no root needed):
- `$XDG_DATA_HOME/applications/vae-desktop.desktop`: the menu entry, its Exec pointing at this install,
- `$XDG_DATA_HOME/icons/hicolor/<N>x<N>/apps/vae-desktop.png` (+ `scalable/apps/vae-desktop.svg`),
- `$XDG_DATA_HOME/mime/packages/vae-desktop.xml`: the checkpoint type, so a double-clicked `*.vaeckpt` opens here,
- a copy of the entry in the desktop folder, when there is one, marked executable and trusted.

Every file written is listed, with its SHA-256, in a manifest; `uninstall_launcher()` removes exactly
those files, keeps any the user has since edited, and removes the folders the install created once empty.
The desktop caches (update-desktop-database, update-mime-database, gtk-update-icon-cache) are refreshed
when those tools are installed. No Qt here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vae_desktop import __version__
from vae_desktop.app_resources import APP_ID, ICON_SIZES, desktop_entry, icon_png, icon_svg, mime_package
from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.errors import VaeDesktopError

MANIFEST_FORMAT = "vae-desktop-launcher-manifest"
MANIFEST_VERSION = 1
TOOL_TIMEOUT_S = 30
GUI_SCRIPT = f"{APP_ID}-gui"  # pyproject's gui-script: on Windows it opens no console window
# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_EXEC_RESERVED = set(" \t\"'\\><~|&;$*?#()`")
_EXEC_ESCAPED_IN_QUOTES = set('"`$\\')


class LauncherError(VaeDesktopError):
    """The launcher cannot be installed or removed here; the message says why and what to do instead."""


@dataclass(frozen=True)
class LauncherPaths:
    """The folders an install writes into; tests pass temporary ones."""

    data_home: Path  # $XDG_DATA_HOME, default ~/.local/share
    desktop_dir: Path | None  # the user's desktop folder, or None when there is none

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> LauncherPaths:
        env = os.environ if env is None else env
        home = Path(env.get("HOME") or Path.home())
        data_home = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
        config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
        return cls(data_home=data_home, desktop_dir=find_desktop_dir(home, config_home))

    @property
    def manifest(self) -> Path:
        return self.data_home / APP_ID / "launcher-manifest.json"


@dataclass
class InstallResult:
    written: list[Path]
    manifest: Path
    desktop_shortcut: Path | None
    notes: list[str] = field(default_factory=list)  # what the cache tools did, or why they were skipped


@dataclass
class UninstallResult:
    removed: list[Path]
    kept_modified: list[Path]  # files the user changed after the install: left in place
    already_gone: list[Path]
    notes: list[str] = field(default_factory=list)


def find_desktop_dir(home: Path, config_home: Path) -> Path | None:
    """The desktop folder as `xdg-user-dir DESKTOP` reports it, or None when it does not exist."""
    candidate = home / "Desktop"
    user_dirs = config_home / "user-dirs.dirs"
    if user_dirs.is_file():
        for line in user_dirs.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.strip().partition("=")
            if key == "XDG_DESKTOP_DIR":
                value = value.strip().strip('"')
                candidate = Path(value.replace("$HOME", str(home), 1))
    if candidate.resolve() == home.resolve():  # the spec's way of saying "no desktop folder"
        return None
    return candidate if candidate.is_dir() else None


def ensure_supported_platform(platform: str | None = None) -> None:
    """Refuse clearly (instead of doing nothing) where there is no freedesktop menu to install into."""
    platform = sys.platform if platform is None else platform
    if platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return
    if platform.startswith("win"):
        raise LauncherError(
            f"--install-launcher is for Linux desktops. On Windows, `pip install vae-desktop` already made "
            f"{GUI_SCRIPT}.exe (it opens without a console window) in your Python's Scripts folder, and the "
            f"bundle has its own vae-desktop.exe: pin either to Start or the taskbar."
        )
    if platform == "darwin":
        raise LauncherError(
            "--install-launcher is for Linux desktops. On macOS, build the app bundle "
            "(see packaging/README.md) and drag it to Applications, or start `vae-desktop` from a terminal."
        )
    raise LauncherError(f"--install-launcher is for Linux desktops; this system is {platform!r}.")


def launch_command() -> list[str]:
    """The command a menu click should run to start this very install."""
    if getattr(sys, "frozen", False):  # the PyInstaller bundle: its executable is the app
        return [str(Path(sys.executable).resolve())]
    for name in (GUI_SCRIPT, APP_ID):  # the scripts pip put beside the interpreter, the windowless one first
        script = Path(sys.executable).with_name(name)
        if script.is_file() and os.access(script, os.X_OK):
            return [str(script)]
    command = [sys.executable, "-m", "vae_desktop"]
    source_root = Path(__file__).resolve().parents[1]
    if _found_through_pythonpath(source_root):  # running from a checkout: the menu needs the same path
        return ["env", f"PYTHONPATH={source_root}", *command]
    return command


def _found_through_pythonpath(source_root: Path) -> bool:
    entries = [e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e]
    return any(Path(e).resolve() == source_root for e in entries)


def exec_quote(argument: str) -> str:
    """Quote one argument for a desktop entry's Exec key (quoting rules, then the key's string escapes)."""
    if any(ord(c) < 32 for c in argument):
        raise LauncherError(f"Cannot put {argument!r} in a desktop entry: it contains a control character.")
    argument = argument.replace("%", "%%")
    if not argument or any(c in _EXEC_RESERVED for c in argument):
        argument = '"' + "".join("\\" + c if c in _EXEC_ESCAPED_IN_QUOTES else c for c in argument) + '"'
    return argument.replace("\\", "\\\\")


def _escape_string(value: str) -> str:
    """A desktop entry string value (TryExec): backslashes doubled."""
    return value.replace("\\", "\\\\")


def render_desktop_entry(command: Sequence[str]) -> str:
    """The shipped entry with Exec (and TryExec) pointing at `command`; %f passes a double-clicked file."""
    program = sys.executable if command[0] == "env" else command[0]
    lines = []
    for line in desktop_entry().read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(exec_quote(arg) for arg in command) + " %f"
        elif line.startswith("TryExec="):
            line = "TryExec=" + _escape_string(program)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _planned_files(paths: LauncherPaths, command: Sequence[str]) -> list[tuple[Path, bytes, int]]:
    """(target, content, mode) for every file an install writes."""
    entry = render_desktop_entry(command).encode("utf-8")
    icons = paths.data_home / "icons" / "hicolor"
    files: list[tuple[Path, bytes, int]] = [(paths.data_home / "applications" / f"{APP_ID}.desktop", entry, 0o644)]
    files += [(icons / f"{s}x{s}" / "apps" / f"{APP_ID}.png", icon_png(s).read_bytes(), 0o644) for s in ICON_SIZES]
    files.append((icons / "scalable" / "apps" / f"{APP_ID}.svg", icon_svg().read_bytes(), 0o644))
    files.append((paths.data_home / "mime" / "packages" / f"{APP_ID}.xml", mime_package().read_bytes(), 0o644))
    if paths.desktop_dir is not None:
        # File managers run a desktop-folder launcher only when it is executable (and, on GNOME, trusted).
        files.append((paths.desktop_dir / f"{APP_ID}.desktop", entry, 0o755))
    return files


def _read_manifest(path: Path) -> dict:
    if not path.exists():
        return {"files": [], "directories": []}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LauncherError(f"The launcher manifest {path} cannot be read ({exc}); remove it and try again.") from exc
    if manifest.get("format") != MANIFEST_FORMAT:
        raise LauncherError(f"{path} is not a VAE Desktop launcher manifest; remove it and try again.")
    return manifest


def _missing_parents(path: Path) -> list[Path]:
    """The folders above `path` that do not exist yet, outermost first: the ones writing it will create."""
    missing = []
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    return list(reversed(missing))


def install_launcher(
    paths: LauncherPaths | None = None,
    command: Sequence[str] | None = None,
    run_tools: bool = True,
    platform: str | None = None,
) -> InstallResult:
    """Install the menu entry, icons, MIME type and desktop shortcut for `command` (default: this install).

    Installing again updates the files in place. A file already there that an earlier install did not
    write, with different content, stops the install before anything is written.
    """
    ensure_supported_platform(platform)
    paths = LauncherPaths.from_environment() if paths is None else paths
    command = launch_command() if command is None else list(command)
    previous = _read_manifest(paths.manifest)
    previously_written = {Path(item["path"]) for item in previous["files"]}
    planned = _planned_files(paths, command)

    for target, content, _mode in planned:
        if target.exists() and target not in previously_written and target.read_bytes() != content:
            raise LauncherError(
                f"{target} already exists and was not written by VAE Desktop; move it away and try again."
            )

    created_dirs = [Path(d) for d in previous["directories"]]
    written: list[dict[str, str]] = []
    for target, content, mode in planned:
        created_dirs += [d for d in _missing_parents(target) if d not in created_dirs]
        atomic_write_bytes(target, content)
        target.chmod(mode)
        written.append({"path": str(target), "sha256": _sha256(content)})
    created_dirs += [d for d in _missing_parents(paths.manifest) if d not in created_dirs]

    # Files an earlier install wrote that this one does not (e.g. the desktop folder is gone): take them out.
    planned_targets = {t for t, _c, _m in planned}
    stale = [item for item in previous["files"] if Path(item["path"]) not in planned_targets]
    _remove_files(stale)

    shortcut = paths.desktop_dir / f"{APP_ID}.desktop" if paths.desktop_dir else None
    _write_manifest(paths, written, created_dirs, command)
    notes = _refresh_caches(paths) if run_tools else []
    if shortcut is not None and run_tools:
        notes += _mark_trusted(shortcut)
    return InstallResult([Path(w["path"]) for w in written], paths.manifest, shortcut, notes)


def _write_manifest(paths: LauncherPaths, files: list[dict[str, str]], dirs: list[Path], command: Sequence[str]) -> None:
    manifest = {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_VERSION,
        "app_version": __version__,
        "command": list(command),
        "files": files,
        "directories": [str(d) for d in dirs],
    }
    atomic_write_bytes(paths.manifest, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))


def uninstall_launcher(
    paths: LauncherPaths | None = None, run_tools: bool = True, platform: str | None = None
) -> UninstallResult:
    """Remove exactly the files the manifest lists (unless edited since), then the folders the install made."""
    ensure_supported_platform(platform)
    paths = LauncherPaths.from_environment() if paths is None else paths
    if not paths.manifest.exists():
        raise LauncherError(
            f"No launcher installed for this user (no manifest at {paths.manifest}); nothing was removed."
        )
    manifest = _read_manifest(paths.manifest)
    removed, kept, gone = _remove_files(manifest["files"])
    paths.manifest.unlink()
    notes = _refresh_caches(paths) if run_tools else []
    created = [Path(d) for d in manifest["directories"]]
    _remove_derived_caches(paths, created)
    for folder in sorted(created, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()  # only when empty: anything else in it is not ours
        except OSError:
            pass
    return UninstallResult(removed, kept, gone, notes)


def _remove_files(items: list[dict[str, str]]) -> tuple[list[Path], list[Path], list[Path]]:
    removed, kept, gone = [], [], []
    for item in items:
        path = Path(item["path"])
        if not path.exists():
            gone.append(path)
        elif _sha256(path.read_bytes()) != item["sha256"]:
            kept.append(path)
        else:
            path.unlink()
            removed.append(path)
    return removed, kept, gone


def _remove_derived_caches(paths: LauncherPaths, created: list[Path]) -> None:
    """Drop caches the tools generated in folders this install created, once nothing else is left there.

    update-mime-database writes its database beside `mime/packages`, update-desktop-database writes
    `applications/mimeinfo.cache`; when those folders exist only because of this install and no
    other package or entry is left, the generated files describe nothing and go with the folder.
    """
    mime = paths.data_home / "mime"
    if mime in created and (mime / "packages").is_dir() and not any((mime / "packages").iterdir()):
        shutil.rmtree(mime)
    applications = paths.data_home / "applications"
    if applications in created and applications.is_dir():
        if {p.name for p in applications.iterdir()} <= {"mimeinfo.cache"}:
            shutil.rmtree(applications)


def _run_tool(args: list[str]) -> str:
    tool = shutil.which(args[0])
    if tool is None:
        return f"{args[0]}: not installed, skipped"
    try:
        done = subprocess.run(
            [tool, *args[1:]], capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{args[0]}: did not run ({exc})"
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        return f"{args[0]}: exit {done.returncode}" + (f" ({detail[-1]})" if detail else "")
    return f"{args[0]}: ok"


def _refresh_caches(paths: LauncherPaths) -> list[str]:
    notes = []
    if (paths.data_home / "applications").is_dir():
        notes.append(_run_tool(["update-desktop-database", "-q", str(paths.data_home / "applications")]))
    if (paths.data_home / "mime" / "packages").is_dir():
        notes.append(_run_tool(["update-mime-database", str(paths.data_home / "mime")]))
    hicolor = paths.data_home / "icons" / "hicolor"
    # Only refresh an icon cache that already exists: creating one would make GTK trust a cache that
    # nothing keeps current later; without one it scans the folder.
    if (hicolor / "icon-theme.cache").exists():
        notes.append(_run_tool(["gtk-update-icon-cache", "-q", "-t", "-f", str(hicolor)]))
    return notes


def _mark_trusted(shortcut: Path) -> list[str]:
    """GNOME's desktop runs a launcher only when its metadata says trusted; elsewhere the x bit suffices."""
    if shutil.which("gio") is None:
        return []
    note = _run_tool(["gio", "set", "-t", "string", str(shortcut), "metadata::trusted", "true"])
    if note.endswith(": ok"):
        return [note]
    return [f"{note}; if GNOME asks, right-click the desktop icon and choose 'Allow Launching'"]


def run_install_launcher() -> int:
    """`vae-desktop --install-launcher`: install and print what was written."""
    result = install_launcher()
    print("Installed the VAE Desktop launcher:")
    for path in result.written:
        print(f"  {path}")
    if result.desktop_shortcut is None:
        print("  (no desktop folder found, so no desktop shortcut)")
    for note in result.notes:
        print(f"  {note}")
    print(f"The list of these files is kept in {result.manifest}; `vae-desktop --uninstall-launcher` removes them.")
    return 0


def run_uninstall_launcher() -> int:
    """`vae-desktop --uninstall-launcher`: remove what the install wrote and print it."""
    result = uninstall_launcher()
    print(f"Removed {len(result.removed)} launcher files.")
    for path in result.kept_modified:
        print(f"  kept {path}: changed since it was installed")
    for path in result.already_gone:
        print(f"  {path}: already gone")
    return 0
