"""The settings form's values across starts: written to QSettings on quit, read back at start.

Apart from hyperparameter_form.py (the fields and their validation) so each stays one job.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from vae_desktop.ui.hyperparameter_form import DEFAULT_DATASET, FOLDER_PREFIX, HyperparameterForm


def save_form(form: HyperparameterForm, settings: QSettings) -> None:
    """Keep the form's values for the next start."""
    settings.beginGroup("form")
    settings.setValue("dataset", form.dataset_name())
    settings.setValue("datasetTitle", form.dataset.currentText())
    settings.setValue("z_dim", form.z_dim.value())
    settings.setValue("beta", form.beta.text())
    settings.setValue("lr", form.lr.text())
    settings.setValue("batch_size", form.batch_size.value())
    settings.setValue("epochs", form.epochs.value())
    settings.setValue("seed", form.seed.value())
    settings.setValue("device", form.device.currentData())
    for name in ("base_width", "hidden", "kl_warmup_epochs"):
        settings.setValue(name, getattr(form, name).value())
    settings.setValue("layout", form.halves.currentData())
    settings.setValue("stddev", form.stddev.currentData())
    settings.setValue("free_bits", form.free_bits.text())
    settings.endGroup()

def restore_form(form: HyperparameterForm, settings: QSettings) -> None:
    """Show the values the form had when the app was last closed (defaults for any missing or bad one)."""
    settings.beginGroup("form")
    try:
        name = str(settings.value("dataset", DEFAULT_DATASET[0]))
        title = str(settings.value("datasetTitle", DEFAULT_DATASET[1]))
        if not name.removeprefix(FOLDER_PREFIX).strip():  # an empty name would mean the current folder
            name, title = DEFAULT_DATASET
        if name.startswith(FOLDER_PREFIX):
            form.add_folder(name[len(FOLDER_PREFIX) :])
        elif name != DEFAULT_DATASET[0]:
            form.insert_dataset(name, title)
        form.select_dataset(name)
        form.z_dim.setValue(_int(settings.value("z_dim"), form.z_dim.value()))
        form.beta.setText(str(settings.value("beta", form.beta.text())))
        form.lr.setText(str(settings.value("lr", form.lr.text())))
        form.batch_size.setValue(_int(settings.value("batch_size"), form.batch_size.value()))
        form.epochs.setValue(_int(settings.value("epochs"), form.epochs.value()))
        form.seed.setValue(_int(settings.value("seed"), form.seed.value()))
        index = form.device.findData(str(settings.value("device", "auto")))
        form.device.setCurrentIndex(max(0, index))
        for name in ("base_width", "hidden", "kl_warmup_epochs"):
            spin = getattr(form, name)
            spin.setValue(_int(settings.value(name), spin.value()))
        for combo, name in ((form.halves, "layout"), (form.stddev, "stddev")):
            combo.setCurrentIndex(max(0, combo.findData(str(settings.value(name, combo.currentData())))))
        form.free_bits.setText(str(settings.value("free_bits", form.free_bits.text())))
    finally:
        settings.endGroup()
    form.revalidate()

def _int(value: object, default: int) -> int:
    if not isinstance(value, (int, float, str)):  # what QSettings gives back: a number or its text
        return default
    try:
        return int(value)
    except ValueError:
        return default
