"""The desktop launcher: what `--install-launcher` writes, and that `--uninstall-launcher` takes exactly that out."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vae_desktop import launcher
from vae_desktop.app_resources import APP_ID, ICON_SIZES, icon_png, icon_svg, mime_package
from vae_desktop.cli import main
from vae_desktop.core.checkpoint import MIME_TYPE
from vae_desktop.launcher import LauncherError, LauncherPaths, exec_quote, install_launcher, uninstall_launcher


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with content) and folder (None) under root."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))
    }


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def exec_argv(value: str) -> list[str]:
    """Parse an Exec value the way the Desktop Entry spec says a launcher does (independent of the writer)."""
    value = value.replace("\\\\", "\\")  # the string-level escape comes off first
    args: list[str] = []
    current: list[str] | None = None
    i, quoted = 0, False
    while i < len(value):
        c = value[i]
        if quoted:
            if c == "\\" and i + 1 < len(value) and value[i + 1] in '"`$\\':
                current.append(value[i + 1])
                i += 1
            elif c == '"':
                quoted = False
            else:
                current.append(c)
        elif c == " ":
            if current is not None:
                args.append("".join(current))
            current = None
        else:
            current = [] if current is None else current
            if c == '"':
                quoted = True
            else:
                current.append(c)
        i += 1
    assert not quoted, f"unbalanced quotes in {value!r}"
    if current is not None:
        args.append("".join(current))
    return [arg.replace("%%", "%") for arg in args]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home" / "Desktop").mkdir(parents=True)
    return tmp_path / "home"


@pytest.fixture
def paths(home: Path) -> LauncherPaths:
    return LauncherPaths(data_home=home / ".local" / "share", desktop_dir=home / "Desktop")


COMMAND = ["/opt/VAE Desktop/vae-desktop"]


def test_install_writes_entry_icons_mime_and_shortcut(paths: LauncherPaths) -> None:
    result = install_launcher(paths, command=COMMAND, run_tools=False, platform="linux")

    data = paths.data_home
    entry = data / "applications" / f"{APP_ID}.desktop"
    shortcut = paths.desktop_dir / f"{APP_ID}.desktop"
    icons = [data / "icons" / "hicolor" / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in ICON_SIZES]
    svg = data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    mime = data / "mime" / "packages" / f"{APP_ID}.xml"
    assert sorted(result.written) == sorted([entry, shortcut, svg, mime, *icons])
    assert result.desktop_shortcut == shortcut
    for size, icon in zip(ICON_SIZES, icons, strict=True):
        assert icon.read_bytes() == icon_png(size).read_bytes()
    assert svg.read_bytes() == icon_svg().read_bytes()
    assert mime.read_bytes() == mime_package().read_bytes()

    fields = read_entry(entry)
    assert exec_argv(fields["Exec"]) == [*COMMAND, "%f"]
    assert fields["TryExec"] == COMMAND[0]
    assert fields["Icon"] == APP_ID and fields["StartupWMClass"] == APP_ID
    assert fields["Terminal"] == "false"
    assert MIME_TYPE in fields["MimeType"].split(";")
    assert shortcut.read_bytes() == entry.read_bytes()
    assert shortcut.stat().st_mode & 0o111 == 0o111, "a desktop-folder launcher must be executable to start"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_installed_entry_passes_desktop_file_validate(paths: LauncherPaths) -> None:
    install_launcher(paths, command=["/opt/odd $dir/it's \"here\"/vae-desktop"], run_tools=False, platform="linux")
    entry = paths.data_home / "applications" / f"{APP_ID}.desktop"
    done = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "", done.stdout  # no warnings or hints either


@pytest.mark.parametrize(
    "argument",
    ["/usr/bin/vae-desktop", "/home/a b/venv/bin/python", "/x/$HOME/`y`", 'q"uote', "back\\slash", "50%", ""],
)
def test_exec_quoting_round_trips(argument: str) -> None:
    assert exec_argv(exec_quote(argument)) == [argument]


def test_uninstall_removes_exactly_what_was_installed(paths: LauncherPaths) -> None:
    data = paths.data_home
    # The user already has other apps' files in the same folders; they must survive untouched.
    (data / "applications").mkdir(parents=True)
    (data / "applications" / "other.desktop").write_text("[Desktop Entry]\nName=Other\n")
    (data / "icons" / "hicolor" / "48x48" / "apps").mkdir(parents=True)
    (data / "icons" / "hicolor" / "48x48" / "apps" / "other.png").write_bytes(b"png")
    (paths.desktop_dir / "notes.txt").write_text("mine")
    root = paths.data_home.parents[1]
    before = tree(root)

    install_launcher(paths, command=COMMAND, run_tools=False, platform="linux")
    assert tree(root) != before
    result = uninstall_launcher(paths, run_tools=False, platform="linux")

    assert tree(root) == before
    assert len(result.removed) == len(ICON_SIZES) + 4 and not result.kept_modified and not result.already_gone


def test_uninstall_with_cache_tools_leaves_a_fresh_home_empty(home: Path, paths: LauncherPaths) -> None:
    """The caches the tools generate in folders the install created go with those folders."""
    before = tree(home)
    install_launcher(paths, command=COMMAND, run_tools=True, platform="linux")
    uninstall_launcher(paths, run_tools=True, platform="linux")
    assert tree(home) == before


@pytest.mark.skipif(
    shutil.which("update-mime-database") is None or shutil.which("update-desktop-database") is None,
    reason="shared-mime-info / desktop-file-utils not installed",
)
def test_checkpoint_files_open_with_the_app(paths: LauncherPaths) -> None:
    result = install_launcher(paths, command=COMMAND, run_tools=True, platform="linux")
    assert "update-mime-database: ok" in result.notes and "update-desktop-database: ok" in result.notes
    globs = (paths.data_home / "mime" / "globs2").read_text()
    assert f"{MIME_TYPE}:*.vaeckpt" in globs
    associations = (paths.data_home / "applications" / "mimeinfo.cache").read_text()
    assert f"{MIME_TYPE}={APP_ID}.desktop;" in associations


def test_uninstall_keeps_a_file_the_user_edited(paths: LauncherPaths) -> None:
    install_launcher(paths, command=COMMAND, run_tools=False, platform="linux")
    shortcut = paths.desktop_dir / f"{APP_ID}.desktop"
    shortcut.write_text(shortcut.read_text().replace("Name=VAE Desktop", "Name=My VAE"))
    result = uninstall_launcher(paths, run_tools=False, platform="linux")
    assert result.kept_modified == [shortcut]
    assert "Name=My VAE" in shortcut.read_text()
    assert not (paths.data_home / "applications" / f"{APP_ID}.desktop").exists()


def test_install_refuses_to_overwrite_a_foreign_file(paths: LauncherPaths) -> None:
    foreign = paths.data_home / "mime" / "packages" / f"{APP_ID}.xml"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("<someone-else/>")
    with pytest.raises(LauncherError, match="was not written by VAE Desktop"):
        install_launcher(paths, command=COMMAND, run_tools=False, platform="linux")
    assert foreign.read_text() == "<someone-else/>"
    assert not (paths.data_home / "applications").exists(), "nothing may be written before the check"


def test_reinstall_updates_in_place_and_follows_a_removed_desktop(home: Path, paths: LauncherPaths) -> None:
    before = tree(home.parent)
    install_launcher(paths, command=COMMAND, run_tools=False, platform="linux")
    no_desktop = LauncherPaths(paths.data_home, desktop_dir=None)
    result = install_launcher(no_desktop, command=["/new/vae-desktop"], run_tools=False, platform="linux")
    assert result.desktop_shortcut is None
    assert not (paths.desktop_dir / f"{APP_ID}.desktop").exists(), "the old shortcut went with the reinstall"
    entry = read_entry(paths.data_home / "applications" / f"{APP_ID}.desktop")
    assert exec_argv(entry["Exec"]) == ["/new/vae-desktop", "%f"]
    uninstall_launcher(no_desktop, run_tools=False, platform="linux")
    assert tree(home.parent) == before


@pytest.mark.parametrize("platform, hint", [("win32", "vae-desktop-gui.exe"), ("darwin", "app bundle")])
def test_other_platforms_are_refused_with_a_pointer(paths: LauncherPaths, platform: str, hint: str) -> None:
    with pytest.raises(LauncherError, match="Linux") as info:
        install_launcher(paths, command=COMMAND, platform=platform)
    assert hint in str(info.value)
    assert not paths.data_home.exists()


def test_desktop_dir_follows_user_dirs(tmp_path: Path) -> None:
    home, config = tmp_path / "home", tmp_path / "config"
    (home / "Schreibtisch").mkdir(parents=True)
    config.mkdir()
    (config / "user-dirs.dirs").write_text('# comment\nXDG_DESKTOP_DIR="$HOME/Schreibtisch"\n')
    assert launcher.find_desktop_dir(home, config) == home / "Schreibtisch"
    (config / "user-dirs.dirs").write_text('XDG_DESKTOP_DIR="$HOME/"\n')  # desktop disabled
    assert launcher.find_desktop_dir(home, config) is None
    (config / "user-dirs.dirs").write_text('XDG_DESKTOP_DIR="$HOME/Missing"\n')
    assert launcher.find_desktop_dir(home, config) is None


def test_launch_command_points_at_this_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bundle" / "vae-desktop"))
    assert launcher.launch_command() == [str(tmp_path / "bundle" / "vae-desktop")]

    monkeypatch.delattr(sys, "frozen")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    source_root = str(Path(launcher.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", source_root)
    python = str(tmp_path / "venv" / "bin" / "python")
    assert launcher.launch_command() == ["env", f"PYTHONPATH={source_root}", python, "-m", "vae_desktop"]

    monkeypatch.delenv("PYTHONPATH")
    assert launcher.launch_command() == [python, "-m", "vae_desktop"]
    console_script = tmp_path / "venv" / "bin" / APP_ID
    console_script.parent.mkdir(parents=True)
    console_script.write_text("#!/bin/sh\n")
    console_script.chmod(0o755)
    assert launcher.launch_command() == [str(console_script)]
    gui_script = tmp_path / "venv" / "bin" / f"{APP_ID}-gui"
    gui_script.write_text("#!/bin/sh\n")
    gui_script.chmod(0o755)
    assert launcher.launch_command() == [str(gui_script)]  # the windowless entry, where it exists


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the launcher installs into Linux desktops")
def test_cli_install_and_uninstall(
    monkeypatch: pytest.MonkeyPatch, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    before = tree(home)

    assert main(["--install-launcher"]) == 0
    out = capsys.readouterr().out
    assert str(home / ".local" / "share" / "applications" / f"{APP_ID}.desktop") in out
    assert str(home / "Desktop" / f"{APP_ID}.desktop") in out

    assert main(["--uninstall-launcher"]) == 0
    assert f"Removed {len(ICON_SIZES) + 4} launcher files" in capsys.readouterr().out
    assert tree(home) == before

    assert main(["--uninstall-launcher"]) == 1
    assert "No launcher installed" in capsys.readouterr().err
