"""Before the QApplication exists: can Qt's X11 platform plugin (xcb) load here? If not, say why.

Qt aborts the process (SIGABRT, exit 134) when its platform plugin cannot load, with "Could not load
the Qt platform plugin "xcb" ... Reinstalling the application may fix this problem": on a minimal
Linux install the usual cause is a missing libxcb-* or libxkbcommon-x11 library, which no
reinstall of the app fixes. This check loads the plugin that belongs to this PySide6 (the loader
follows its dependencies as Qt's would; Qt then reuses the loaded library, so a working machine pays
only a few milliseconds), and when that fails, asks `ldd` which libraries are missing and names
the packages that provide them.

The same goes for a DISPLAY that is not set or names no reachable X server: one message, exit 1.
It runs only when xcb is the platform Qt would pick first, so offscreen, Wayland and the other
platforms start exactly as before.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from vae_desktop.core.errors import VaeDesktopError

LDD_TIMEOUT_S = 10
PLUGIN_FILE = "libqxcb.so"

# Library file -> (Debian/Ubuntu package, Fedora package): everything the xcb plugin links against
# that a minimal system may lack.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libXau.so.6": ("libxau6", "libXau"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLdispatch.so.0": ("libglvnd0", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}


class PlatformUnavailableError(VaeDesktopError):
    """The window cannot open on this machine as it is; the message says what to install or set."""


def first_platform(env: Mapping[str, str]) -> str:
    """The platform plugin Qt tries first, decided as QGuiApplication does on Linux (Qt 6).

    QT_QPA_PLATFORM ("name:options;fallback;...") wins; otherwise Wayland comes first in a Wayland
    session and xcb is the default.
    """
    forced = env.get("QT_QPA_PLATFORM", "")
    if forced:
        return forced.split(";", 1)[0].split(":", 1)[0].strip().lower()
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def check_platform(env: Mapping[str, str] | None = None, platform: str | None = None) -> None:
    """Raise PlatformUnavailableError, naming the fix, where Qt would abort opening an X11 window."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or first_platform(env) != "xcb":
        return
    from PySide6.QtCore import QLibraryInfo  # QtCore is loaded already; the check needs no QApplication

    plugin = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / PLUGIN_FILE
    if plugin.is_file() and not _other_plugins(env, plugin):
        problem = xcb_plugin_problem(plugin)
        if problem:
            raise PlatformUnavailableError(problem)
    display = env.get("DISPLAY")
    if not display:
        raise PlatformUnavailableError(
            "there is no X11 display to open the window on (DISPLAY is not set). Start VAE Desktop from a "
            "desktop session (or `ssh -X`), or train without a window: vae-desktop train --help"
        )
    if plugin.is_file() and not _other_plugins(env, plugin):
        refused = x_connection_error(display)
        if refused:
            raise PlatformUnavailableError(
                f"cannot connect to the X11 display {display} ({refused}). Is the X server running, and may "
                "this user open windows on it (xauth)? Or train without a window: vae-desktop train --help"
            )


# xcb_connection_has_error() codes (xcb.h), said in words.
_XCB_ERRORS = {
    1: "the connection failed or was refused",
    2: "an X extension is missing",
    3: "out of memory",
    4: "a request was too long",
    5: "DISPLAY cannot be parsed",
    6: "that screen does not exist",
    7: "a file descriptor could not be passed",
}


def x_connection_error(display: str) -> str | None:
    """Why libxcb cannot connect to `display`, or None when it can: what Qt's xcb plugin does next.

    One connection set-up over the local socket (about a millisecond); without it Qt aborts with the
    same "Could not load the Qt platform plugin" message as for a missing library.
    """
    try:
        xcb = ctypes.CDLL("libxcb.so.1")  # already loaded with the plugin
    except OSError:
        return None  # the library check above speaks for this
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        code = xcb.xcb_connection_has_error(connection)
    finally:
        xcb.xcb_disconnect(connection)  # also frees the error object xcb returns on failure
    return _XCB_ERRORS.get(code, f"xcb error {code}") if code else None


def _other_plugins(env: Mapping[str, str], ours: Path) -> list[Path]:
    """xcb plugins in folders the user pointed Qt at: Qt may load one of those, so we do not judge."""
    folders = [env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "")]
    folders += [str(Path(p) / "platforms") for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    found = [Path(f) / PLUGIN_FILE for f in folders if f]
    return [p for p in found if p.is_file() and p.resolve() != ours.resolve()]


def xcb_plugin_problem(plugin: Path) -> str | None:
    """None when `plugin` loads; otherwise the message naming its missing libraries and their packages.

    A plugin that fails for another reason (no library missing) is left to Qt, which loads it lazily
    and may yet succeed.
    """
    try:
        ctypes.CDLL(str(plugin))
        return None
    except OSError as exc:
        missing = missing_libraries(plugin, str(exc))
    return missing_libraries_message(missing) if missing else None


def missing_libraries(plugin: Path, load_error: str = "") -> list[str]:
    """The libraries `plugin` needs (directly or through others) that the dynamic loader cannot find.

    `ldd` follows the whole tree; without it, the loader's own error names the first one missing.
    """
    ldd = shutil.which("ldd")
    if ldd is not None:
        try:
            done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=LDD_TIMEOUT_S)
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None:
            names = [line.split("=>", 1)[0].strip() for line in done.stdout.splitlines() if "=> not found" in line]
            return list(dict.fromkeys(names))
    first = load_error.split(":", 1)[0].strip()
    return [first] if "cannot open shared object file" in load_error and first else []


def missing_libraries_message(missing: list[str]) -> str:
    """One message: what is missing, and the command that installs it on Debian/Ubuntu and Fedora."""
    known = [name for name in missing if name in PACKAGES]
    qt_own = [name for name in missing if name.startswith("libQt6")]
    unknown = [name for name in missing if name not in PACKAGES and name not in qt_own]
    lines = [
        "the window cannot open: Qt's X11 platform plugin (xcb) needs libraries that are not installed: "
        + ", ".join(missing) + "."
    ]
    if known:
        debian = list(dict.fromkeys(PACKAGES[name][0] for name in known))
        fedora = list(dict.fromkeys(PACKAGES[name][1] for name in known))
        lines.append("Install them with:")
        lines.append(f"  Debian/Ubuntu:  sudo apt install {' '.join(debian)}")
        lines.append(f"  Fedora:         sudo dnf install {' '.join(fedora)}")
    if qt_own:
        lines.append(f"{', '.join(qt_own)} belong to PySide6 itself: reinstall it "
                     "(pip install --force-reinstall PySide6-Essentials).")
    if unknown:
        lines.append(f"Find the package for {', '.join(unknown)} with `apt-file search NAME` or `dnf provides '*/NAME'`.")
    lines.append("Training without a window works as it is: vae-desktop train --help")
    return "\n".join(lines)
