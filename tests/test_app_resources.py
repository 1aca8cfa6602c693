"""The packaged icon, desktop entry and MIME declaration agree with each other and with the checkpoint format."""

from __future__ import annotations

import configparser
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from vae_desktop.app_resources import APP_ID, ICO_SIZES, ICON_SIZES, desktop_entry, icon_ico, icon_png, mime_package
from vae_desktop.core.checkpoint import MIME_TYPE, SUFFIX

REPO = Path(__file__).resolve().parents[1]
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def test_desktop_entry_names_the_app_its_icon_and_the_checkpoint_type() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(desktop_entry().read_text(encoding="utf-8"))
    entry = parser["Desktop Entry"]
    for key in ("Name", "GenericName", "Comment", "Exec", "Icon", "Terminal", "Categories", "StartupWMClass"):
        assert entry.get(key), f"{key} missing"
    assert entry["Exec"] == f"{APP_ID}-gui %f" and entry["TryExec"] == f"{APP_ID}-gui"  # the windowless script
    assert entry["Icon"] == APP_ID and entry["StartupWMClass"] == APP_ID
    assert entry["Terminal"] == "false"
    assert MIME_TYPE in entry["MimeType"].split(";")


def test_mime_package_declares_the_checkpoint_suffix() -> None:
    root = ET.parse(mime_package()).getroot()
    types = root.findall(f"{MIME_NS}mime-type")
    assert [t.get("type") for t in types] == [MIME_TYPE]
    assert [g.get("pattern") for g in types[0].findall(f"{MIME_NS}glob")] == [f"*{SUFFIX}"]
    assert types[0].find(f"{MIME_NS}icon").get("name") == APP_ID


def test_every_icon_size_is_there_and_square() -> None:
    for size in ICON_SIZES:
        with Image.open(icon_png(size)) as image:
            assert image.size == (size, size) and image.mode == "RGBA"
            alpha = image.getchannel("A")
            assert alpha.getpixel((0, 0)) == 0, "rounded corners are transparent"
            assert alpha.getpixel((size // 2, size // 2)) == 255
    with Image.open(icon_ico()) as ico:
        assert {s[0] for s in ico.info["sizes"]} == set(ICO_SIZES)


def test_icons_are_rendered_from_the_current_svg() -> None:
    """The PNGs and .ico are generated files: they must match a fresh render of the SVG source."""
    done = subprocess.run(
        [sys.executable, str(REPO / "resources" / "render_icons.py"), "--check"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, f"stale icons, run `python resources/render_icons.py`:\n{done.stderr}"
