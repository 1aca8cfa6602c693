"""Light and dark: one place that owns every colour the app draws with, and follows the system.

`ThemeManager` (one per QApplication, found with `theme_manager()`) picks the light or dark
`Theme` from the system colour scheme (`QStyleHints.colorScheme`, Qt 6.5+) or the user's choice
(View ▸ Theme), sets the matching Fusion palette on the application and emits `changed(Theme)`.
Widgets that paint with their own colours (pyqtgraph plots, the latent map, style sheets) register
with `on_theme(owner, apply)`: `apply(theme)` runs at once and again on every switch, for as long
as `owner` lives. Colours are plain '#rrggbb' strings so tests can compare them directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

SYSTEM, LIGHT_NAME, DARK_NAME = "system", "light", "dark"
PREFERENCES = (SYSTEM, LIGHT_NAME, DARK_NAME)
SETTINGS_KEY = "view/theme"
MANAGER_NAME = "vaeDesktopThemeManager"


@dataclass(frozen=True)
class Theme:
    """Every colour the app chooses itself; the Fusion palette is built from the first block."""

    name: str
    # palette
    window: str
    window_text: str
    base: str
    alternate_base: str
    text: str
    button: str
    button_text: str
    highlight: str
    highlighted_text: str
    link: str
    light: str
    midlight: str
    mid: str
    dark: str
    shadow: str
    placeholder: str
    tooltip_base: str
    tooltip_text: str
    disabled_text: str
    # text and widgets
    muted_text: str  # secondary labels and hints
    error_text: str
    accent: str  # the Start button, selections
    accent_hover: str
    accent_disabled: str
    accent_text: str
    invalid_border: str  # a field holding a value that cannot be used
    invalid_background: str
    cell_border: str  # frames around shown images
    image_background: str  # behind decoded images (they are often black-backed)
    emphasis: str  # highlighted labels (e.g. the latent dimensions the map spans)
    # loss plots and charts
    plot_background: str
    plot_axis: str
    plot_grid: str
    plot_neutral: str  # zero lines and dividers
    plot_ink: str  # small marks that must stand out on the background (ticks, outlines)
    plot_marker_edge: str  # outline of epoch markers: the background colour, so markers look cut out
    recon: str
    kl: str
    train: str
    test: str
    raw_saturation: float  # the raw per-batch curve: a faint version of its quantity's colour
    raw_value: float
    # latent map
    map_background: str
    map_axis_text: str
    map_axis_line: str
    map_legend_background: str  # '#rrggbbaa'
    map_legend_border: str
    handle: str
    handle_fill: str  # '#rrggbbaa'
    handle_label_fill: str  # '#rrggbbaa'
    handle_selected: str
    path: str
    ellipse: str
    # message banner: background, border, text
    banner_error: tuple[str, str, str]
    banner_warning: tuple[str, str, str]
    banner_info: tuple[str, str, str]

    @property
    def is_dark(self) -> bool:
        return self.name == DARK_NAME

    def raw_curve_color(self, color: str) -> QColor:
        """The faint, opaque (no blending cost) colour of a raw per-batch curve of `color`."""
        hue = QColor(color).hsvHueF()
        return QColor.fromHsvF(hue, self.raw_saturation, self.raw_value)

    def banner(self, kind: str) -> tuple[str, str, str]:
        return {"error": self.banner_error, "warning": self.banner_warning, "info": self.banner_info}[kind]

    def header_ink(self, color: str) -> str:
        """`color` readable as table-header text: Fusion shades a header from above to below the
        button colour, so the text must read on both ends of that gradient."""
        button = QColor(self.button)
        ends = (button.lighter(135).name(), button.darker(110).name())
        return readable_on(readable_on(color, ends[0]), ends[1])


LIGHT = Theme(
    name=LIGHT_NAME,
    window="#efefef", window_text="#1d1d1f", base="#ffffff", alternate_base="#f5f5f6", text="#1d1d1f",
    button="#efefef", button_text="#1d1d1f", highlight="#308cc6", highlighted_text="#ffffff", link="#1d64b0",
    light="#ffffff", midlight="#cacaca", mid="#b8b8b8", dark="#9f9f9f", shadow="#767676",
    placeholder="#7a7a80", tooltip_base="#ffffdc", tooltip_text="#1d1d1f", disabled_text="#9a9a9e",
    muted_text="#6e6e78", error_text="#b3261e",
    accent="#1f77b4", accent_hover="#2786c9", accent_disabled="#b8c9d8", accent_text="#ffffff",
    invalid_border="#d0403b", invalid_background="#fff4f3", cell_border="#d6d6d6", image_background="#e4e4e8",
    emphasis="#b45309",
    plot_background="#ffffff", plot_axis="#5a5a5a", plot_grid="#e8e8e8", plot_neutral="#555555", plot_ink="#222222",
    plot_marker_edge="#ffffff",
    recon="#1f77b4", kl="#9467bd", train="#e67814", test="#2c962c", raw_saturation=0.28, raw_value=0.97,
    map_background="#f4f4f6", map_axis_text="#3a3a42", map_axis_line="#9a9aa2",
    map_legend_background="#ffffffd8", map_legend_border="#c4c4cc",
    handle="#1e1e26", handle_fill="#ffffffa0", handle_label_fill="#ffffffc8", handle_selected="#d97706",
    path="#d97706", ellipse="#c2185b",
    banner_error=("#fdecea", "#e5a39d", "#8a1c12"),
    banner_warning=("#fff6e0", "#e8c77a", "#7a5200"),
    banner_info=("#e8f1fb", "#a9c6e8", "#1d4f86"),
)

DARK = Theme(
    name=DARK_NAME,
    window="#26272b", window_text="#e6e6e9", base="#1c1d20", alternate_base="#242529", text="#e6e6e9",
    button="#323338", button_text="#e6e6e9", highlight="#2f7fc1", highlighted_text="#ffffff", link="#6cb2ff",
    light="#45464c", midlight="#393a3f", mid="#4e4f55", dark="#17181a", shadow="#0b0b0c",
    placeholder="#8c8d94", tooltip_base="#34353b", tooltip_text="#f0f0f2", disabled_text="#75767c",
    muted_text="#a0a1a8", error_text="#ff8a80",
    accent="#2f7fc1", accent_hover="#3a8fd6", accent_disabled="#34485a", accent_text="#ffffff",
    invalid_border="#e5645d", invalid_background="#3d2423", cell_border="#45464c", image_background="#0e0e12",
    emphasis="#ffc83c",
    plot_background="#1c1d20", plot_axis="#b4b5bb", plot_grid="#323338", plot_neutral="#9a9ba1", plot_ink="#e6e6e9",
    plot_marker_edge="#1c1d20",
    recon="#4c9fe0", kl="#b48fe0", train="#f08c32", test="#4cbf4c", raw_saturation=0.55, raw_value=0.42,
    map_background="#0e0e12", map_axis_text="#c8c8d0", map_axis_line="#6e6e78",
    map_legend_background="#141418d0", map_legend_border="#5a5a64",
    handle="#ebebf0", handle_fill="#14141878", handle_label_fill="#14141890", handle_selected="#ffc83c",
    path="#ffc83c", ellipse="#ffffff",
    banner_error=("#3d2423", "#8c3b35", "#ffb4ab"),
    banner_warning=("#3a3020", "#8a6d2a", "#ffd98a"),
    banner_info=("#1e2f42", "#3d6591", "#b9d7ff"),
)


def _luminance(color: str | QColor) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 black .. 1 white)."""
    c = QColor(color)

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF())


def contrast_ratio(foreground: str | QColor, background: str | QColor) -> float:
    """WCAG 2 contrast ratio (1 .. 21); 4.5 is the minimum for normal text (level AA)."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


READABLE_RATIO = 4.5  # WCAG AA for normal text


def readable_on(color: str, background: str, minimum: float = READABLE_RATIO) -> str:
    """`color`, made lighter (on a dark background) or darker (on a light one) until text in it reads.

    The hue stays, so a quantity keeps its colour from chart to table in both themes; colours that
    already read well are returned unchanged.
    """
    if contrast_ratio(color, background) >= minimum:
        return QColor(color).name()
    toward = QColor("#ffffff") if _luminance(background) < 0.18 else QColor("#000000")
    start = QColor(color)
    for step in range(1, 21):
        t = step / 20
        mixed = QColor.fromRgbF(
            start.redF() + (toward.redF() - start.redF()) * t,
            start.greenF() + (toward.greenF() - start.greenF()) * t,
            start.blueF() + (toward.blueF() - start.blueF()) * t,
        )
        if contrast_ratio(mixed, background) >= minimum:
            return mixed.name()
    return toward.name()


def theme_named(name: str) -> Theme:
    return DARK if name == DARK_NAME else LIGHT


def palette_for(theme: Theme) -> QPalette:
    """The Fusion palette of a theme (active, inactive and disabled groups)."""
    role = QPalette.ColorRole
    palette = QPalette()
    colors = {
        role.Window: theme.window, role.WindowText: theme.window_text, role.Base: theme.base,
        role.AlternateBase: theme.alternate_base, role.Text: theme.text, role.Button: theme.button,
        role.ButtonText: theme.button_text, role.BrightText: "#ffffff", role.Highlight: theme.highlight,
        role.HighlightedText: theme.highlighted_text, role.Link: theme.link, role.LinkVisited: theme.link,
        role.Light: theme.light, role.Midlight: theme.midlight, role.Mid: theme.mid, role.Dark: theme.dark,
        role.Shadow: theme.shadow, role.PlaceholderText: theme.placeholder, role.ToolTipBase: theme.tooltip_base,
        role.ToolTipText: theme.tooltip_text, role.Accent: theme.highlight,
    }
    for color_role, value in colors.items():
        palette.setColor(color_role, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for color_role in (role.WindowText, role.Text, role.ButtonText, role.HighlightedText):
        palette.setColor(disabled, color_role, QColor(theme.disabled_text))
    palette.setColor(disabled, role.Highlight, QColor(theme.mid))
    palette.setColor(disabled, role.Base, QColor(theme.window))
    return palette


def scheme_name(scheme: Qt.ColorScheme) -> str:
    """'dark' for the dark scheme; light otherwise (also when the platform does not say)."""
    return DARK_NAME if scheme == Qt.ColorScheme.Dark else LIGHT_NAME


class ThemeManager(QObject):
    """Owns the current theme of one QApplication; emits `changed(Theme)` when it switches."""

    changed = Signal(object)  # Theme

    def __init__(self, app: QGuiApplication) -> None:
        super().__init__(app)
        self.setObjectName(MANAGER_NAME)
        self._app = app
        self._preference = SYSTEM
        self._system = scheme_name(app.styleHints().colorScheme())
        self._theme = theme_named(self._system)
        app.styleHints().colorSchemeChanged.connect(self._on_system_scheme)
        self._apply_palette()

    @property
    def theme(self) -> Theme:
        return self._theme

    @property
    def preference(self) -> str:
        """'system' (follow the desktop), 'light' or 'dark'."""
        return self._preference

    def set_preference(self, preference: str) -> None:
        if preference not in PREFERENCES:
            raise ValueError(f"theme must be one of {PREFERENCES}, not {preference!r}")
        self._preference = preference
        self._update()

    def restore(self, settings: QSettings) -> None:
        value = str(settings.value(SETTINGS_KEY, SYSTEM))
        self.set_preference(value if value in PREFERENCES else SYSTEM)

    def save(self, settings: QSettings) -> None:
        settings.setValue(SETTINGS_KEY, self._preference)

    @Slot(Qt.ColorScheme)
    def _on_system_scheme(self, scheme: Qt.ColorScheme) -> None:
        self._system = scheme_name(scheme)
        self._update()

    def _update(self) -> None:
        wanted = theme_named(self._system if self._preference == SYSTEM else self._preference)
        if wanted is self._theme:
            return
        self._theme = wanted
        self._apply_palette()
        self.changed.emit(wanted)

    def _apply_palette(self) -> None:
        self._app.setPalette(palette_for(self._theme))
        if isinstance(self._app, QApplication):
            # A widget with a style sheet keeps the palette it was polished with: polish it again.
            for widget in self._app.allWidgets():
                sheet = widget.styleSheet()
                if sheet:
                    widget.setStyleSheet(sheet)


def theme_manager() -> ThemeManager:
    """The running application's theme manager (created on first use; it lives as the app's child)."""
    app = QGuiApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication before asking for its theme")
    manager = app.findChild(ThemeManager, MANAGER_NAME)
    if manager is None:
        manager = ThemeManager(app)  # type: ignore[arg-type]
    return manager


def current_theme() -> Theme:
    return theme_manager().theme


class _ThemeBinding(QObject):
    """A child of the subscribing object: Qt drops the connection when the owner is destroyed."""

    def __init__(self, apply: Callable[[Theme], None], owner: QObject) -> None:
        super().__init__(owner)
        self._apply_fn = apply

    @Slot(object)
    def apply(self, theme: Theme) -> None:
        self._apply_fn(theme)


def on_theme(owner: QObject, apply: Callable[[Theme], None]) -> Theme:
    """Run `apply(theme)` now and after every theme switch while `owner` lives; returns the theme."""
    manager = theme_manager()
    binding = _ThemeBinding(apply, owner)
    manager.changed.connect(binding.apply)
    theme = manager.theme
    apply(theme)
    return theme
