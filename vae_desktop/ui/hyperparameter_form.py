"""The run settings form: dataset, z_dim and the training hyperparameters, validated as you type.

Every field's label, default and limits come from `core.config.FIELDS`, which the CLI's argparse
types also read, so the window and `vae-desktop train` accept and refuse exactly the same values
with the same words.
This module imports no torch: the form is part of the first paint.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
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

from vae_desktop.core.config import FIELDS, Architecture, FieldSpec, RunSettings, TrainConfig, shown_text
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
    "base_width": f"Channels of the first convolution ({FIELDS['base_width'].low}–{FIELDS['base_width'].high}); "
    "each later stage doubles them. Wider learns more per epoch and takes longer per step.",
    "hidden": f"Units of the fully connected layer between the convolutions and the 2·z_dim outputs "
    f"({FIELDS['hidden'].low}–{FIELDS['hidden'].high}).",
    "layout": "Which half of the encoder's 2·z_dim outputs is used as the mean. Swapped, the network learns the "
    "roles the other way round: the roles come from how the outputs are used (Experiments ▸ Swap the halves).",
    "stddev": "How the second half becomes σ: exp (the standard), softplus (also always positive), or raw, used "
    "as σ directly: it goes negative and training stops at that step (Experiments ▸ Without exp).",
    "kl_warmup_epochs": "Ramp β up from 0 over this many epochs: the decoder learns to use z before the KL "
    "pulls it toward the prior, a remedy for posterior collapse. 0: no warm-up.",
    "free_bits": "Nats per latent dimension the KL term never goes below: a dimension may carry that much "
    "information for free, another remedy for posterior collapse. 0: off.",
}
LOCKED_TIP = "Fixed for this run (File ▸ New run to change it)."
SPIN_FIELDS = ("z_dim", "base_width", "hidden", "batch_size", "epochs", "seed", "kl_warmup_epochs")  # whole numbers
TEXT_FIELDS = ("beta", "lr", "free_bits")  # any finite number, typed as text
LAYOUT_TITLES = {"mean-first": "μ, then log σ", "logstd-first": "log σ, then μ (swapped)"}
STDDEV_TITLES = {"exp": "σ = exp(log σ)", "softplus": "σ = softplus(s)", "raw": "raw: σ = output (fails)"}
# Define a run: fixed from its first Start until File ▸ New run.
RUN_FIELDS = ("dataset", "z_dim", "base_width", "hidden", "layout", "stddev", "batch_size", "seed",
              "kl_warmup_epochs", "free_bits")


class HyperparameterForm(QWidget):
    """Emits `validityChanged(ok, message)` after every edit; `settings()` returns the values or raises."""

    validityChanged = Signal(bool, str)
    folderRequested = Signal()  # the user picked "Open image folder…"; the window shows the dialog

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = QComboBox()
        self.dataset.setMinimumContentsLength(14)
        self.z_dim = _spin(FIELDS["z_dim"])
        self.base_width = _spin(FIELDS["base_width"])
        self.hidden = _spin(FIELDS["hidden"])
        self.halves = _combo(LAYOUT_TITLES)
        self.stddev = _combo(STDDEV_TITLES)
        self.kl_warmup_epochs = _spin(FIELDS["kl_warmup_epochs"])
        self.free_bits = QLineEdit(f"{FIELDS['free_bits'].default:g}")
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
        for name in ("z_dim", "base_width", "hidden"):
            model_form.addRow(FIELDS[name].label, getattr(self, name))
        train_box, train_form = _group("Training")
        for name in ("beta", "lr", "batch_size", "epochs", "seed"):
            train_form.addRow(FIELDS[name].label, getattr(self, name))
        train_form.addRow("Device", self.device)
        experiment_box, experiment_form = _group("Experiments")
        experiment_form.addRow("Halves", self.halves)
        experiment_form.addRow("Stddev", self.stddev)
        experiment_form.addRow("KL warm-up", self.kl_warmup_epochs)
        experiment_form.addRow("Free bits", self.free_bits)
        self.experiment_box = experiment_box
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (data_box, model_box, train_box, experiment_box):
            layout.addWidget(box)
        layout.addWidget(self.error)

        self._fields: dict[str, QWidget] = {
            "dataset": self.dataset, "z_dim": self.z_dim, "base_width": self.base_width, "hidden": self.hidden,
            "layout": self.halves, "stddev": self.stddev, "beta": self.beta, "lr": self.lr,
            "batch_size": self.batch_size, "epochs": self.epochs, "seed": self.seed, "device": self.device,
            "kl_warmup_epochs": self.kl_warmup_epochs, "free_bits": self.free_bits,
        }
        for name, widget in self._fields.items():
            widget.setToolTip(TOOLTIPS[name])
            widget.setProperty("baseToolTip", TOOLTIPS[name])
        on_theme(self, self._apply_theme)

        self.dataset.activated.connect(self._on_dataset_activated)
        for line in (self.beta, self.lr, self.free_bits):
            line.textChanged.connect(self._validate)
        for spin in (self.z_dim, self.base_width, self.hidden, self.batch_size, self.epochs, self.seed,
                     self.kl_warmup_epochs):
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
            kl_warmup_epochs=self.kl_warmup_epochs.value(),
            free_bits=FIELDS["free_bits"].parse(self.free_bits.text()),
        )
        return RunSettings(self.dataset_name(), self.z_dim.value(), train, self.architecture())

    def architecture(self) -> Architecture:
        return Architecture(self.base_width.value(), self.hidden.value(), str(self.halves.currentData()),
                            str(self.stddev.currentData()))

    def set_architecture(self, architecture: Architecture) -> None:
        """Show these model choices (an opened run's, or the window's model template)."""
        self.base_width.setValue(architecture.base_width)
        self.hidden.setValue(architecture.hidden)
        self.halves.setCurrentIndex(max(0, self.halves.findData(architecture.layout)))
        self.stddev.setCurrentIndex(max(0, self.stddev.findData(architecture.stddev)))
        self._validate()

    def dataset_name(self) -> str:
        return str(self.dataset.currentData())

    def is_valid(self) -> bool:
        return self._valid

    def set_values(self, dataset: str, z_dim: int, train: TrainConfig, architecture: Architecture | None = None) -> None:
        """Show a run's settings (an opened checkpoint)."""
        self.select_dataset(dataset)
        self.z_dim.setValue(z_dim)
        if architecture is not None:
            self.set_architecture(architecture)
        self.kl_warmup_epochs.setValue(train.kl_warmup_epochs)
        self.free_bits.setText(f"{train.free_bits:g}")
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

    def insert_dataset(self, name: str, title: str) -> None:
        """A dataset choice not in the registry list (e.g. remembered from the last start)."""
        self.dataset.insertItem(self._open_folder_index(), title, name)

    def revalidate(self) -> None:
        """Check every field again (after values were set from outside)."""
        self._validate()

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
        """Dataset, the model, batch size, seed and the KL remedies define a run; fixed until a new run."""
        for name in RUN_FIELDS:
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


def _spin(spec: FieldSpec) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(int(spec.low), int(spec.high))
    spin.setValue(int(spec.default))
    spin.setAccelerated(True)
    return spin


def _combo(titles: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    for name, title in titles.items():
        combo.addItem(title, name)
    return combo


def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
    box = QGroupBox(title)
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setContentsMargins(10, 8, 10, 8)
    form.setVerticalSpacing(6)
    return box, form
