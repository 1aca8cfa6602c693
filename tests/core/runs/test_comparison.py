"""The comparison model without Qt: legend labels, colours, visibility, selection, and the CSV."""

from __future__ import annotations

import csv
import io

import pytest

from tests.core.runs.conftest import batch, epoch_metrics, new_writer
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.runs.comparison import (
    OWN_RUN_KEY,
    ComparedRun,
    RunComparison,
    RunCurves,
    differing_settings,
    flat_settings,
    open_compared_run,
)
from vae_desktop.core.runs.comparison_csv import comparison_csv
from vae_desktop.core.runs.errors import RunFolderError


def run(name: str, key: str | None = None, **changes) -> ComparedRun:
    model = ModelConfig(**{k: v for k, v in changes.items() if k in ModelConfig.__dataclass_fields__}).to_dict()
    train = TrainConfig(**{k: v for k, v in changes.items() if k in TrainConfig.__dataclass_fields__}).to_dict()
    return ComparedRun(key or name, name, flat_settings(changes.get("dataset", "shapes"), model, train), RunCurves())


def test_labels_name_only_the_settings_that_differ():
    runs = [run("a", beta=1.0, z_dim=2), run("b", beta=4.0, z_dim=2)]
    assert differing_settings(runs) == ["β = 1", "β = 4"]
    runs = [run("a", beta=1.0, z_dim=2, lr=0.001), run("b", beta=4.0, z_dim=3, lr=0.002)]
    assert differing_settings(runs) == ["z = 2, β = 1, lr = 0.001", "z = 3, β = 4, lr = 0.002"]
    assert differing_settings([run("a", layout="mean-first"), run("b", layout="logstd-first")]) == [
        "layout = mean-first", "layout = logstd-first"]


def test_labels_are_the_names_when_nothing_differs_and_never_repeat():
    assert differing_settings([run("first"), run("second")]) == ["first", "second"]
    assert differing_settings([run("only", beta=4.0)]) == ["only"]
    # the device and the epochs planned are not named; equal labels get the run's name
    labels = differing_settings([run("a", beta=1.0, epochs=3), run("b", beta=1.0, epochs=9), run("c", beta=2.0)])
    assert labels == ["β = 1 (a)", "β = 1 (b)", "β = 2"]


def test_colours_stay_with_a_run_and_selection_follows_removal():
    comparison = RunComparison()
    selected: list[str] = []
    comparison.selection_changed.connect(selected.append)
    a, b, c = comparison.add(run("a")), comparison.add(run("b")), comparison.add(run("c"))
    assert [a.colour, b.colour, c.colour] == [0, 1, 2]
    assert comparison.selected is a and selected == ["a"]
    comparison.select("b")
    comparison.remove("b")
    assert selected == ["a", "b", "a"]
    d = comparison.add(run("d"))
    assert d.colour == 1  # the freed colour, so a and c keep theirs
    comparison.set_visible("c", False)
    again = comparison.add(run("c"))  # reopened: same colour, still hidden
    assert (again.colour, again.visible) == (2, False)
    with pytest.raises(KeyError):
        comparison.select("nope")


def test_opened_folders_hold_their_own_rows_and_settings(tmp_path):
    folders = []
    for i, z_dim in enumerate((2, 3)):
        folder = tmp_path / f"run-{z_dim}"
        writer = new_writer(folder, epochs=2, steps_per_epoch=10)
        writer.start()
        for step in range(1, 21):
            writer.log_batch(batch(step, recon=100.0 * (i + 1) + step))
            if step % 10 == 0:
                writer.log_epoch(epoch_metrics(step // 10, test_total=50.0 * (i + 1) + step))
        writer.finish()
        folders.append(folder)
    runs = [open_compared_run(str(f)) for f in folders]
    for i, compared in enumerate(runs):
        assert compared.curves.steps.tolist() == list(range(1, 21))
        assert compared.curves.recon.tolist() == [100.0 * (i + 1) + s for s in range(1, 21)]
        assert [e.test_total for e in compared.curves.epochs] == [50.0 * (i + 1) + 10, 50.0 * (i + 1) + 20]
        assert compared.curves.steps_per_epoch == 10
    rows = list(csv.reader(io.StringIO(comparison_csv(runs))))
    assert rows[0][:4] == ["epoch", "run-2 train recon", "run-2 train KL", "run-2 train -ELBO"]
    assert rows[0][7] == "run-3 train recon" and len(rows[0]) == 13
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    assert float(rows[2][rows[0].index("run-3 test -ELBO")]) == 120.0


def test_a_folder_that_is_not_a_run_is_refused_in_one_sentence(tmp_path):
    with pytest.raises(RunFolderError, match="not a run folder"):
        open_compared_run(str(tmp_path))


def test_the_own_run_key():
    assert ComparedRun(OWN_RUN_KEY, "This window", {}, RunCurves()).is_own
