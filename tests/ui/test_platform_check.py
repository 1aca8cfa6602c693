"""Without the X libraries Qt's xcb plugin needs, the app names them and their packages and exits 1 (not
Qt's abort, exit 134); offscreen and the other platforms are never held back by the check.

The missing libraries are made real with a mount namespace: an overlay over the system library
folder whites out libxcb-cursor and libxkbcommon-x11, so the dynamic loader cannot find them, just as
on a minimal install. That needs root (or unprivileged user namespaces); elsewhere those tests skip.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vae_desktop.ui.platform_check import PLUGIN_FILE, first_platform

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ("libxcb-cursor.so.0", "libxkbcommon-x11.so.0")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux only")


def _plugin() -> Path:
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / PLUGIN_FILE


def _desktop_env(**extra: str) -> dict[str, str]:
    """An X11 desktop's environment: DISPLAY set, no forced platform, no Wayland."""
    env = {k: v for k, v in os.environ.items() if k not in {"QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"}}
    env.update({"DISPLAY": ":97", "PYTHONPATH": str(ROOT), **extra})
    return env


def _resolved_library_folders(names: tuple[str, ...]) -> dict[str, Path]:
    """Where the loader finds each library today (ldd of the plugin); absent ones are not in the dict."""
    done = subprocess.run(["ldd", str(_plugin())], capture_output=True, text=True, timeout=30)
    found = {}
    for line in done.stdout.splitlines():
        name, _, rest = line.strip().partition(" => ")
        if name in names and rest.startswith("/"):
            found[name] = Path(os.path.realpath(rest.split(" (", 1)[0])).parent
    return found


def _hiding_script(folders: set[Path], scratch: Path) -> list[str]:
    """Shell lines that, in a fresh mount namespace, white out the HIDDEN libraries in `folders`."""
    lines = ["set -e"]
    for number, folder in enumerate(sorted(folders)):
        upper, work = scratch / f"upper{number}", scratch / f"work{number}"
        upper.mkdir(parents=True)
        work.mkdir()
        lines += [f"mknod {shlex.quote(str(upper / e.name))} c 0 0" for e in folder.iterdir() if e.name.startswith(HIDDEN)]
        lines.append(f"mount -t overlay overlay -o lowerdir={folder},upperdir={upper},workdir={work} {folder}")
    return lines


def _run_without_libraries(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `args` where the HIDDEN libraries do not exist (already absent, or whited out by an overlay)."""
    if shutil.which("unshare") is None or shutil.which("ldd") is None:
        pytest.skip("needs unshare and ldd")
    folders = set(_resolved_library_folders(HIDDEN).values())
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    probe = subprocess.run([*unshare, "sh", "-c", "\n".join([*_hiding_script(folders, tmp_path / "probe"),
                                                             "ldd " + shlex.quote(str(_plugin()))])],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"cannot hide libraries here (needs root or user namespaces): {probe.stderr.strip()[:300]}")
    assert all(f"{name} => not found" in probe.stdout for name in HIDDEN), probe.stdout
    script = [*_hiding_script(folders, tmp_path / "run"), "exec " + shlex.join(args)]
    return subprocess.run([*unshare, "sh", "-c", "\n".join(script)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


def test_missing_x_libraries_are_named_with_their_packages_and_exit_1(tmp_path):
    done = _run_without_libraries([sys.executable, "-m", "vae_desktop"], _desktop_env(), tmp_path)
    assert done.returncode == 1, f"exit {done.returncode}\n{done.stdout}{done.stderr}"
    err = done.stderr
    assert err.startswith("vae-desktop: error: the window cannot open"), err
    for library in HIDDEN:
        assert library in err
    apt = next(line for line in err.splitlines() if "sudo apt install" in line)
    dnf = next(line for line in err.splitlines() if "sudo dnf install" in line)
    assert {"libxcb-cursor0", "libxkbcommon-x11-0"} <= set(apt.split())
    assert {"xcb-util-cursor", "libxkbcommon-x11"} <= set(dnf.split())
    assert "Reinstalling the application" not in err and "Traceback" not in err


def test_offscreen_starts_although_x_libraries_are_missing(tmp_path):
    """The check only speaks for xcb: the same machine still builds the window offscreen."""
    code = textwrap.dedent(
        """
        from vae_desktop.ui.app import create_application, create_main_window
        app = create_application()
        window = create_main_window()
        window.show()
        app.processEvents()
        print("platform", app.platformName())
        """
    )
    env = _desktop_env(QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = _run_without_libraries([sys.executable, "-c", code], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "platform offscreen" in done.stdout


def test_no_display_is_one_message_not_an_abort(tmp_path):
    env = _desktop_env()
    del env["DISPLAY"]
    done = subprocess.run([sys.executable, "-m", "vae_desktop"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 1, f"exit {done.returncode}\n{done.stdout}{done.stderr}"
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("vae-desktop: error:")
    if "not installed" not in lines[0]:  # where the X libraries exist, the missing display is what is named
        assert lines == [lines[0]] and "DISPLAY is not set" in lines[0]


def test_a_display_without_an_x_server_is_one_message_not_an_abort(tmp_path):
    free = next(n for n in range(300, 400) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    done = subprocess.run([sys.executable, "-m", "vae_desktop"], capture_output=True, text=True,
                          env=_desktop_env(DISPLAY=f":{free}"), cwd=tmp_path, timeout=120)
    assert done.returncode == 1, f"exit {done.returncode}\n{done.stdout}{done.stderr}"
    lines = done.stderr.strip().splitlines()
    if "not installed" not in lines[0]:  # where the X libraries exist, the unreachable display is what is named
        assert lines == [f"vae-desktop: error: cannot connect to the X11 display :{free} (the connection failed "
                         "or was refused). Is the X server running, and may this user open windows on it (xauth)? "
                         "Or train without a window: vae-desktop train --help"]


def test_a_plugin_whose_own_qt_library_is_missing_is_named(tmp_path):
    """A stray copy of the plugin cannot find libQt6XcbQpa beside it (its RUNPATH is $ORIGIN/../../lib)."""
    copy = tmp_path / "platforms" / PLUGIN_FILE
    copy.parent.mkdir()
    shutil.copy2(_plugin(), copy)
    code = f"from pathlib import Path; from vae_desktop.ui.platform_check import xcb_plugin_problem; " \
           f"print(xcb_plugin_problem(Path({str(copy)!r})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "libQt6XcbQpa.so.6" in done.stdout and "reinstall it" in done.stdout
    original = subprocess.run([sys.executable, "-c", code.replace(repr(str(copy)), repr(str(_plugin())))],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert original.stdout.strip() == "None" or "not installed" in original.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "xcb"),
        ({"DISPLAY": ":0"}, "xcb"),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ({"XDG_SESSION_TYPE": "wayland"}, "wayland"),
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "offscreen"),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "xcb"),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland"),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "vnc"),
    ],
)
def test_the_check_runs_only_where_qt_tries_xcb_first(env, expected):
    assert first_platform(env) == expected
