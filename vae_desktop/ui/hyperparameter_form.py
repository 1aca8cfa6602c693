"""The run settings form: dataset, z_dim and the training hyperparameters, validated as you type.

Every field's label, default and limits come from `core.config.FIELDS`, which the CLI's argparse
types also read, so the window and `vae-desktop train` accept and refuse exactly the same values
with the same words.
This module imports no torch: the form is part of the first paint.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vae_desktop.core.config import FIELDS, FieldSpec, RunSettings, TrainConfig, shown_text
from vae_desktop.core.errors import ConfigError
from vae_desktop.ui.theme import Theme, on_theme

FOLDER_PREFIX = "folder:"  # same prefix as core.datasets.registry (which imports torch)
OPEN_FOLDER = "__open_folder__"
DEFAULT_DATASET = ("shapes", "Shapes (built in)")
DEVICE_TITLES = {"auto": "Auto (best available)", "cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}

TOOLTIPS = {
    "dataset": "Images to train on. Shapes is built in; MNIST, Fashion-MNIST, Kuzushiji-MNIST and CIFAR-10 are "
    "downloaded once; or open a folder of your own images.",
    "z_dim": f"Latent dimensions ({FIELDS['z_dim'].low}–{FIELDS['z_dim'].high}). 2 gives a latent map you can read directly; 16 reconstructs better.",
    "beta": "Weight of the KL term (β-VAE). 1 is the standard ELBO; larger values give a smoother latent space "
    "and blurrier reconstructions; 0 switches the KL term off.",
    "lr": "Adam learning rate, for example 1e-3. Too large and the loss explodes: training stops and keeps "
    "the last good weights.",
    "batch_size": "Images per optimisation step. Larger batches run faster per image but take more steps to learn.",
    "epochs": "Total epochs to reach. Raise it to continue a run that has finished.",
    "seed": "Seed for the initial weights, the shuffling and the sampling noise: the same seed gives the same run.",
    "device": "Where to train. Auto picks a CUDA or Apple GPU when present, otherwise the CPU.",
}
LOCKED_TIP = "Fixed for this run (File ▸ New run to change it)."
SPIN_FIELDS = ("z_dim", "batch_size", "epochs", "seed")  # whole numbers, in spin boxes
TEXT_FIELDS = ("beta", "lr")  # any finite number, typed as text


class HyperparameterForm(QWidget):
    """Emits `validityChanged(ok, message)` after every edit; `settings()` returns the values or raises."""

    validityChanged = Signal(bool, str)
    folderRequested = Signal()  # the user picked "Open image folder…"; the window shows the dialog

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = QComboBox()
        self.dataset.setMinimumContentsLength(14)
        self.z_dim = _spin(FIELDS["z_dim"])
        self.beta = QLineEdit(f"{FIELDS['beta'].default:g}")
        self.lr = QLineEdit(f"{FIELDS['lr'].default:g}")
        self.batch_size = _spin(FIELDS["batch_size"])
        self.epochs = _spin(FIELDS["epochs"])
        self.seed = _spin(FIELDS["seed"])
        self.device = QComboBox()
        for name, title in DEVICE_TITLES.items():
            self.device.addItem(title, name)
        self._last_dataset_index = 0
        self._set_dataset_items([DEFAULT_DATASET])

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.hide()

        data_box, data_form = _group("Data")
        data_form.addRow("Dataset", self.dataset)
        model_box, model_form = _group("Model")
        model_form.addRow(FIELDS["z_dim"].label, self.z_dim)
        train_box, train_form = _group("Training")
        for name in ("beta", "lr", "batch_size", "epochs", "seed"):
            train_form.addRow(FIELDS[name].label, getattr(self, name))
        train_form.addRow("Device", self.device)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (data_box, model_box, train_box):
            layout.addWidget(box)
        layout.addWidget(self.error)

        self._fields: dict[str, QWidget] = {
            "dataset": self.dataset, "z_dim": self.z_dim, "beta": self.beta, "lr": self.lr,
            "batch_size": self.batch_size, "epochs": self.epochs, "seed": self.seed, "device": self.device,
        }
        for name, widget in self._fields.items():
            widget.setToolTip(TOOLTIPS[name])
            widget.setProperty("baseToolTip", TOOLTIPS[name])
        on_theme(self, self._apply_theme)

        self.dataset.activated.connect(self._on_dataset_activated)
        for line in (self.beta, self.lr):
            line.textChanged.connect(self._validate)
        for spin in (self.z_dim, self.batch_size, self.epochs, self.seed):
            spin.valueChanged.connect(self._validate)
            # Typed text a spin box cannot accept ("0", "") leaves value() at the old number while the
            # box shows the new text: validate the text too, so Start never uses a number not shown.
            spin.lineEdit().textChanged.connect(self._validate)
            # Leaving the box (Tab, a click elsewhere, Return) puts the last good number back with the
            # line edit's signals blocked, so no textChanged tells us: look again when editing ends.
            spin.editingFinished.connect(self._validate)
        self.device.currentIndexChanged.connect(self._validate)
        self._valid = True

    def _apply_theme(self, theme: Theme) -> None:
        """A field that cannot be used gets a red frame; the message under the form is red too."""
        self.setStyleSheet(
            f'QLineEdit[invalid="true"] {{ border: 1px solid {theme.invalid_border}; border-radius: 2px;'
            f" background: {theme.invalid_background}; }}"
        )
        self.error.setStyleSheet(f"color: {theme.error_text};")

    # ---- values ---------------------------------------------------------------------------------
    def settings(self) -> RunSettings:
        """The validated settings; raises ConfigError naming the first bad field."""
        for name in SPIN_FIELDS:
            problem = self._spin_problem(name)
            if problem:
                raise ConfigError(problem)
        train = TrainConfig(
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=FIELDS["lr"].parse(self.lr.text()),
            beta=FIELDS["beta"].parse(self.beta.text()),
            seed=self.seed.value(),
            device=str(self.device.currentData()),
        )
        return RunSettings(self.dataset_name(), self.z_dim.value(), train)

    def dataset_name(self) -> str:
        return str(self.dataset.currentData())

    def is_valid(self) -> bool:
        return self._valid

    def set_values(self, dataset: str, z_dim: int, train: TrainConfig) -> None:
        """Show a run's settings (an opened checkpoint)."""
        self.select_dataset(dataset)
        self.z_dim.setValue(z_dim)
        self.beta.setText(f"{train.beta:g}")
        self.lr.setText(f"{train.lr:g}")
        self.batch_size.setValue(train.batch_size)
        self.epochs.setValue(train.epochs)
        self.seed.setValue(train.seed)
        index = self.device.findData(train.device)
        self.device.setCurrentIndex(index if index >= 0 else 0)
        self._validate()

    # ---- datasets and devices -------------------------------------------------------------------
    def set_dataset_choices(self, choices: Iterable[tuple[str, str]]) -> None:
        """Registry datasets (name, title); called once the core (and torch) has loaded."""
        current = self.dataset_name()
        folders = [(self.dataset.itemData(i), self.dataset.itemText(i)) for i in range(self.dataset.count())
                   if str(self.dataset.itemData(i)).startswith(FOLDER_PREFIX)]
        self._set_dataset_items([*choices, *folders])
        self.select_dataset(current)

    def select_dataset(self, name: str) -> None:
        index = self.dataset.findData(name)
        if index < 0:
            if name.startswith(FOLDER_PREFIX):
                self.add_folder(name[len(FOLDER_PREFIX) :])
                return
            self.dataset.insertItem(self._open_folder_index(), name, name)
            index = self.dataset.findData(name)
        self.dataset.setCurrentIndex(index)
        self._last_dataset_index = index

    def add_folder(self, path: str) -> None:
        """Add (or select) a folder dataset."""
        name = f"{FOLDER_PREFIX}{path}"
        if self.dataset.findData(name) < 0:
            self.dataset.insertItem(self._open_folder_index(), f"Folder: {Path(path).name or path}", name)
            self.dataset.setItemData(self.dataset.findData(name), path, Qt.ItemDataRole.ToolTipRole)
        self.select_dataset(name)

    def restore_dataset_selection(self) -> None:
        """Undo picking "Open image folder…" when the dialog was cancelled."""
        self.dataset.setCurrentIndex(self._last_dataset_index)

    def set_available_devices(self, available: Iterable[str]) -> None:
        usable = set(available) | {"auto", "cpu"}
        model = self.device.model()
        assert isinstance(model, QStandardItemModel)  # a QComboBox's own model
        for i in range(self.device.count()):
            name = self.device.itemData(i)
            item = model.item(i)
            item.setEnabled(name in usable)
            if name not in usable:
                item.setToolTip(f"No {DEVICE_TITLES[name]} was found on this computer.")

    def _set_dataset_items(self, items: Iterable[tuple[str, str]]) -> None:
        self.dataset.blockSignals(True)
        self.dataset.clear()
        for name, title in items:
            self.dataset.addItem(title, name)
        self.dataset.insertSeparator(self.dataset.count())
        self.dataset.addItem("Open image folder…", OPEN_FOLDER)
        self.dataset.blockSignals(False)

    def _open_folder_index(self) -> int:
        return self.dataset.findData(OPEN_FOLDER) - 1  # before the separator

    @Slot(int)
    def _on_dataset_activated(self, index: int) -> None:
        if self.dataset.itemData(index) == OPEN_FOLDER:
            self.folderRequested.emit()
        else:
            self._last_dataset_index = index
            self._validate()

    # ---- locking and validation -----------------------------------------------------------------
    def set_run_locked(self, locked: bool) -> None:
        """Dataset, z_dim, batch size and seed define a run; they stay fixed until a new run."""
        for name in ("dataset", "z_dim", "batch_size", "seed"):
            widget = self._fields[name]
            widget.setEnabled(not locked)
            base = widget.property("baseToolTip")
            widget.setToolTip(f"{base}\n\n{LOCKED_TIP}" if locked else base)

    def set_training_active(self, active: bool) -> None:
        """While training, the remaining fields are read-only: they apply at the next Start."""
        for name in ("beta", "lr", "epochs", "device"):
            self._fields[name].setEnabled(not active)

    def _text_field(self, name: str) -> QLineEdit:
        field = self._fields[name]
        assert isinstance(field, QLineEdit)
        return field

    @Slot()
    def _validate(self) -> None:
        problems: list[tuple[str, str]] = []
        for name in TEXT_FIELDS:
            try:
                FIELDS[name].parse(self._text_field(name).text())
            except ConfigError as exc:
                problems.append((name, str(exc)))
        for name in SPIN_FIELDS:
            problem = self._spin_problem(name)
            if problem:
                problems.append((name, problem))
        for name in (*TEXT_FIELDS, *SPIN_FIELDS):
            line = self._fields[name]
            bad = any(p[0] == name for p in problems)
            if bool(line.property("invalid")) != bad:
                line.setProperty("invalid", bad)
                line.style().unpolish(line)
                line.style().polish(line)
        message = " ".join(text for _, text in problems)
        self._valid = not problems
        self.error.setText(message)
        self.error.setVisible(bool(problems))
        self.validityChanged.emit(self._valid, message)

    def _spin_problem(self, name: str) -> str:
        """What is wrong with the text typed into a spin box ("" when it shows an acceptable number)."""
        spin = self._fields[name]
        assert isinstance(spin, QSpinBox)
        if not spin.isEnabled() or spin.hasAcceptableInput():
            return ""
        return FIELDS[name].refusal(shown_text(spin.text()))

    # ---- persistence ----------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        settings.beginGroup("form")
        settings.setValue("dataset", self.dataset_name())
        settings.setValue("datasetTitle", self.dataset.currentText())
        settings.setValue("z_dim", self.z_dim.value())
        settings.setValue("beta", self.beta.text())
        settings.setValue("lr", self.lr.text())
        settings.setValue("batch_size", self.batch_size.value())
        settings.setValue("epochs", self.epochs.value())
        settings.setValue("seed", self.seed.value())
        settings.setValue("device", self.device.currentData())
        settings.endGroup()

    def restore_settings(self, settings: QSettings) -> None:
        settings.beginGroup("form")
        try:
            name = str(settings.value("dataset", DEFAULT_DATASET[0]))
            title = str(settings.value("datasetTitle", DEFAULT_DATASET[1]))
            if not name.removeprefix(FOLDER_PREFIX).strip():  # an empty name would mean the current folder
                name, title = DEFAULT_DATASET
            if name.startswith(FOLDER_PREFIX):
                self.add_folder(name[len(FOLDER_PREFIX) :])
            elif name != DEFAULT_DATASET[0]:
                self.dataset.insertItem(self._open_folder_index(), title, name)
            self.select_dataset(name)
            self.z_dim.setValue(_int(settings.value("z_dim"), self.z_dim.value()))
            self.beta.setText(str(settings.value("beta", self.beta.text())))
            self.lr.setText(str(settings.value("lr", self.lr.text())))
            self.batch_size.setValue(_int(settings.value("batch_size"), self.batch_size.value()))
            self.epochs.setValue(_int(settings.value("epochs"), self.epochs.value()))
            self.seed.setValue(_int(settings.value("seed"), self.seed.value()))
            index = self.device.findData(str(settings.value("device", "auto")))
            self.device.setCurrentIndex(max(0, index))
        finally:
            settings.endGroup()
        self._validate()


def _spin(spec: FieldSpec) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(int(spec.low), int(spec.high))
    spin.setValue(int(spec.default))
    spin.setAccelerated(True)
    return spin


def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
    box = QGroupBox(title)
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setContentsMargins(10, 8, 10, 8)
    form.setVerticalSpacing(6)
    return box, form


def _int(value: object, default: int) -> int:
    if not isinstance(value, (int, float, str)):  # what QSettings gives back: a number or its text
        return default
    try:
        return int(value)
    except ValueError:
        return default
