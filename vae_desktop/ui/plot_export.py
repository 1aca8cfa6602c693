"""Plots to files: PNG (the widget drawn at twice its size) and SVG (Qt's own SVG generator).

pyqtgraph's SVGExporter post-processes Qt's SVG text and breaks on what Qt 6 writes
(pyqtgraph issue #3485: "not enough values to unpack" in correctCoordinates), so SVG is drawn
here with QSvgGenerator through the same scene render and export mode pyqtgraph's exporters use.
"""

from __future__ import annotations

from pyqtgraph.exporters import Exporter
from pyqtgraph.graphicsItems.GraphicsObject import GraphicsObject
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

EXPORT_SCALE = 2  # pixels per on-screen pixel: sharp on a slide or a high-DPI screen


def widget_image(widget: QWidget, scale: int = EXPORT_SCALE) -> QImage:
    """The widget exactly as it looks, drawn at `scale` times its size (text and lines redrawn, not enlarged).

    Rendering the widget (rather than pyqtgraph's ImageExporter at a larger width) keeps items that
    have a fixed size on screen, such as the legend and the handles of the latent map, in proportion.
    """
    size = widget.size()
    image = QImage(size.width() * scale, size.height() * scale, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(scale)
    image.fill(widget.palette().color(widget.backgroundRole()))
    QWidget.render(widget, image)  # the widget as drawn (QGraphicsView.render would draw only its scene)
    image.setDevicePixelRatio(1)
    return image.convertToFormat(QImage.Format.Format_RGB32)


def widget_png(widget: QWidget, scale: int = EXPORT_SCALE) -> bytes:
    return image_png(widget_image(widget, scale))


def image_png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6's stub wants the format as bytes, but only a str is accepted when it runs.
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise OSError("Qt could not encode the image as PNG")
    buffer.close()
    return bytes(data.data())


class _SvgExporter(Exporter):
    """A pyqtgraph exporter (so items switch to export mode) that paints into a QSvgGenerator."""

    def export(self, fileName: str | None = None, toBytes: bool = True, copy: bool = False) -> bytes:
        source = self.getSourceRect()
        size = QSize(max(1, round(source.width())), max(1, round(source.height())))
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(size)
        generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
        generator.setTitle("VAE Desktop plot")
        generator.setDescription("Exported from VAE Desktop")
        painter = QPainter(generator)
        try:
            self.setExportMode(True, {"antialias": True, "background": None, "painter": painter})
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self.getScene().render(painter, QRectF(0, 0, size.width(), size.height()), QRectF(source))
        finally:
            self.setExportMode(False)
            painter.end()
        buffer.close()
        return bytes(data.data())


def plot_svg(item: GraphicsObject) -> bytes:
    """Vector drawing of a plot item: lines, text and markers stay sharp at any zoom."""
    return _SvgExporter(item).export()
