"""Property-based: whatever text is typed or pasted into the hyperparameter form, the form either
yields exactly the numbers it shows or names the problem in one clean line; never an exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QSpinBox

from vae_desktop.core.config import TrainConfig
from vae_desktop.core.errors import ConfigError
from vae_desktop.ui.hyperparameter_form import HyperparameterForm

FIELDS = ("lr", "beta", "batch_size", "epochs", "z_dim", "seed")
LABELS = {"lr": "learning rate", "beta": "β|beta", "batch_size": "Batch size", "epochs": "Epochs",
          "z_dim": "Latent dims", "seed": "Seed"}
FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

numbers_ish = st.one_of(
    st.text(max_size=40),  # anything at all: letters, symbols, emoji, control characters
    st.text(alphabet="0123456789.-+eE _,", max_size=12),  # near misses of a number
    st.sampled_from(["nan", "inf", "-inf", "1e309", "1e-400", "0", "-0", "0x10", "1_000", "١٢٣", "½", "1e3"]),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@pytest.fixture
def form(qtbot) -> HyperparameterForm:
    """One form for all examples of a test (hypothesis reuses it), closed after the test like any widget."""
    widget = HyperparameterForm()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _edit(widget: QLineEdit | QSpinBox, text: str, typed: bool) -> None:
    line = widget.lineEdit() if isinstance(widget, QSpinBox) else widget
    if typed:  # key by key, through the spin box's validator, as a user types
        line.selectAll()
        line.del_()
        for char in text:  # as a keyboard or input method delivers it (QTest.keyClicks knows ASCII only)
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(line, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))
    else:  # pasted or set programmatically: no validator in the way
        line.setText(text)


def _assert_clean(message: str, field: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message, repr(message)
    assert len(message) <= 200, message
    assert any(label.lower() in message.lower() for label in LABELS[field].split("|")), message


DEFAULTS = {"lr": "1e-3", "beta": "1", "batch_size": "128", "epochs": "10", "z_dim": "16", "seed": "0"}


def _restore(form: HyperparameterForm) -> None:
    """Every field back to a good value, so an example's verdict is about its own field only."""
    for name, text in DEFAULTS.items():
        widget = getattr(form, name)
        if widget.text() != text:
            _edit(widget, text, typed=False)
            if isinstance(widget, QSpinBox):
                widget.interpretText()
    assert form.is_valid()


@FUZZ
@given(field=st.sampled_from(FIELDS), text=numbers_ish, typed=st.booleans())
@example(field="lr", text="1\x1f", typed=False)  # found by CI: shown as "1", once silently taken as 1
def test_any_text_in_any_field_gives_the_shown_numbers_or_one_clean_message(form, field, text, typed):
    _restore(form)
    _edit(getattr(form, field), text, typed)  # each edit validates the form as it changes
    try:
        values = form.settings()
    except ConfigError as exc:
        _assert_clean(str(exc), field)
        assert not form.is_valid() and form.error.isVisibleTo(form)
        assert str(exc) in form.error.text()  # the form said the same while it was being typed
        return
    assert form.is_valid() and not form.error.isVisibleTo(form)
    shown = {name: _shown_number(getattr(form, name)) for name in FIELDS}
    assert values.train == TrainConfig(
        epochs=shown["epochs"], batch_size=shown["batch_size"], lr=shown["lr"], beta=shown["beta"],
        seed=shown["seed"], device=values.train.device,
    )
    assert values.z_dim == shown["z_dim"]


def _shown_number(widget: QLineEdit | QSpinBox) -> float | int:
    """The number a user reads in the field ("1,000" in a spin box is 1000 in this locale)."""
    if isinstance(widget, QSpinBox):
        return widget.valueFromText(widget.text())
    return float(widget.text())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lr=numbers_ish, batch=numbers_ish)
def test_start_in_the_window_with_random_text_only_ever_shows_a_message(window, lr, batch):
    form = window.form
    _restore(form)
    _edit(form.lr, lr, typed=False)
    _edit(form.batch_size, batch, typed=True)
    try:
        form.settings()
    except ConfigError as exc:
        assert not window.start_button.isEnabled()
        window.banner.dismiss()
        window.start_training()
        assert window.banner.kind == "error" and window.banner.message() == str(exc)
        assert window.state == "idle" and not window.controller.has_run
