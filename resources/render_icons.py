"""Render the app icon's PNG sizes and the Windows .ico from the SVG source.

    python resources/render_icons.py          # rewrite vae_desktop/resources/icons/*
    python resources/render_icons.py --check  # exit 1 if the committed files are stale

Uses QtSvg from PySide6-Essentials (already a dependency) and Pillow for the .ico, so no extra
tool is needed. Each size is rendered from the vector source, not scaled down from a big PNG,
which keeps the 16 px icon crisp.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae_desktop.app_resources import ICO_SIZES, ICON_SIZES, icon_ico, icon_png, icon_svg

# A re-render may differ by antialiasing rounding between Qt versions; anything beyond this is a changed icon.
MAX_MEAN_DIFFERENCE = 2.0  # in 0..255 units, averaged over RGBA


def render_svg(svg: Path, size: int) -> Image.Image:
    """Render the SVG at size x size into an RGBA Pillow image (straight, not premultiplied, alpha)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # QPainter needs a GUI app
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    data = np.frombuffer(rgba.constBits(), dtype=np.uint8, count=rgba.sizeInBytes())
    data = data.reshape(size, rgba.bytesPerLine())[:, : size * 4].reshape(size, size, 4).copy()
    return Image.fromarray(data, "RGBA")


def render_all(svg: Path) -> dict[int, Image.Image]:
    return {size: render_svg(svg, size) for size in ICON_SIZES}


def ico_bytes(images: dict[int, Image.Image]) -> bytes:
    """A multi-size .ico with every size rendered from the vector source."""
    largest = images[max(ICO_SIZES)]
    others = [images[s] for s in ICO_SIZES if s != max(ICO_SIZES)]
    buffer = io.BytesIO()
    largest.save(buffer, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=others)
    return buffer.getvalue()


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def stale_files(svg: Path) -> list[str]:
    """Committed icon files that no longer match a fresh render of the SVG (empty when all is current)."""
    images = render_all(svg)
    problems = []
    for size, image in images.items():
        path = icon_png(size)
        if not path.exists():
            problems.append(f"{path.name}: missing")
            continue
        with Image.open(path) as stored:
            if stored.size != (size, size):
                problems.append(f"{path.name}: is {stored.size}, expected {size}x{size}")
            elif (diff := mean_difference(stored.convert("RGBA"), image)) > MAX_MEAN_DIFFERENCE:
                problems.append(f"{path.name}: differs from the SVG (mean difference {diff:.1f})")
    if not icon_ico().exists():
        problems.append(f"{icon_ico().name}: missing")
    else:
        with Image.open(icon_ico()) as ico:
            found = {size[0] for size in ico.info.get("sizes", set())}
        if found != set(ICO_SIZES):
            problems.append(f"{icon_ico().name}: sizes {sorted(found)}, expected {list(ICO_SIZES)}")
    return problems


def write_all(svg: Path) -> None:
    images = render_all(svg)
    for size, image in images.items():
        path = icon_png(size)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, optimize=True)
    icon_ico().write_bytes(ico_bytes(images))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    svg = icon_svg()
    if args.check:
        problems = stale_files(svg)
        for problem in problems:
            print(f"render_icons: {problem}", file=sys.stderr)
        return 1 if problems else 0
    write_all(svg)
    print(f"render_icons: wrote {len(ICON_SIZES)} PNGs and {icon_ico().name} from {svg.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
