"""Run a GUI benchmark on each Qt platform it can: offscreen, and xcb (X11) on a real X server.

Offscreen Qt paints into memory and talks to no display server. On a Linux desktop the app runs on
xcb, where each frame is sent to the server, the window is mapped by it, and start-up connects to
it, reads its keyboard map and screens, and so on. A GUI benchmark therefore runs once per platform,
each time in a fresh process (Qt picks its platform once per process):

- offscreen: always;
- xcb: on the X server in $DISPLAY when one is set, otherwise on a private Xvfb started on a free
  display (`-displayfd`) and stopped afterwards; left out, with the reason printed, when there is
  neither or Qt's xcb plugin cannot load here.

`--platform offscreen` or `--platform xcb` runs just that one, in this process. The default
(`auto`) prints one JSON line, {"benchmark": ..., "platforms": {"offscreen": {...}, "xcb": {...}},
"meets_target": ..., "machine": ...}, then each platform's own table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ("offscreen", "xcb")
XVFB_SCREEN = "1600x1000x24"
XVFB_START_TIMEOUT_S = 20


def add_platform_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--platform", choices=("auto", *PLATFORMS), default="auto",
                        help="Qt platform to measure on (default: offscreen, then xcb where an X server is available)")


def xcb_unavailable_reason() -> str | None:
    """Why xcb cannot be measured here, or None when it can."""
    if not sys.platform.startswith("linux"):
        return "xcb is the Linux X11 platform"
    if not os.environ.get("DISPLAY") and shutil.which("Xvfb") is None:
        return "no DISPLAY and Xvfb is not installed"
    from PySide6.QtCore import QLibraryInfo

    from vae_desktop.ui.platform_check import PLUGIN_FILE, xcb_plugin_problem

    plugin = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / PLUGIN_FILE
    problem = xcb_plugin_problem(plugin) if plugin.is_file() else f"no {plugin}"
    return problem.splitlines()[0] if problem else None


@contextmanager
def x_server() -> Iterator[str]:
    """A description of the X server used; $DISPLAY is set to it for as long as the block runs."""
    if os.environ.get("DISPLAY"):
        yield f"DISPLAY={os.environ['DISPLAY']}"
        return
    # -noreset: an X server resets when its last client leaves, and a client connecting meanwhile is
    # refused ("could not connect to display"); the benchmarks start and stop several clients in turn.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", XVFB_SCREEN, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        number = _read_display_number(read_end)
        os.environ["DISPLAY"] = f":{number}"
        yield f"Xvfb :{number} ({XVFB_SCREEN}, started for this run)"
    finally:
        os.environ.pop("DISPLAY", None)
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _read_display_number(fd: int) -> str:
    """Xvfb writes the display number it chose once it accepts connections."""
    import select

    chunks = b""
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while not chunks.endswith(b"\n"):
            ready, _, _ = select.select([pipe], [], [], XVFB_START_TIMEOUT_S)
            chunk = pipe.read(16) if ready else b""
            if not chunk:
                raise SystemExit(f"Xvfb did not start within {XVFB_START_TIMEOUT_S} s")
            chunks += chunk
    return chunks.decode().strip()


@contextmanager
def on_platform(platform: str) -> Iterator[str]:
    """Make this process's Qt use `platform` (set before the QApplication exists); yields a description."""
    os.environ["QT_QPA_PLATFORM"] = platform
    if platform != "xcb":
        yield platform
        return
    with x_server() as where:
        yield f"xcb on {where}"


def run_benchmark(parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int]) -> int:
    """The GUI benchmarks' main: `body(args)` on one platform, or once per platform in child processes."""
    add_platform_argument(parser)
    args = parser.parse_args()
    if args.platform != "auto":
        with on_platform(args.platform):
            return body(args)
    return _run_each_platform(sys.argv[1:])


def _child_command(argv: list[str], platform: str) -> list[str]:
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    target = ["-m", spec.name] if spec is not None else [str(Path(main.__file__).resolve())]
    return [sys.executable, *target, *argv, "--platform", platform]


def _run_each_platform(argv: list[str]) -> int:
    from benchmarks.machine import machine_info

    results: dict[str, dict] = {}
    tables: list[str] = []
    skipped: dict[str, str] = {}
    name = None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for platform in PLATFORMS:
        reason = xcb_unavailable_reason() if platform == "xcb" else None
        if reason:
            skipped[platform] = reason
            continue
        with on_platform(platform) as where:
            done = subprocess.run(_child_command(argv, platform), capture_output=True, text=True, cwd=ROOT,
                                  env={**env, **{k: os.environ[k] for k in ("QT_QPA_PLATFORM", "DISPLAY") if k in os.environ}})
        os.environ.pop("QT_QPA_PLATFORM", None)
        if done.returncode != 0:
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            print(f"benchmark failed on {where} (exit {done.returncode})", file=sys.stderr)
            return done.returncode
        lines = done.stdout.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("{"))
        result = json.loads(lines[first])
        name = result.pop("benchmark")
        result.pop("machine", None)
        result["platform"] = where
        results[platform] = result
        tables.append(f"== {where}\n" + "\n".join(lines[:first] + lines[first + 1 :]))
    info = machine_info()
    info["qt_platform"] = ", ".join(results)
    combined = {
        "benchmark": name,
        "platforms": results,
        "skipped_platforms": skipped,
        "meets_target": all(r.get("meets_target", True) for r in results.values()),
        "machine": info,
    }
    print(json.dumps(combined, default=float))
    for table in tables:
        print()
        print(table.rstrip())
    for platform, reason in skipped.items():
        print(f"\n== {platform}: not measured ({reason})")
    return 0
