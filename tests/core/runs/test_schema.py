"""run.json and metrics.jsonl rows: round trips, tolerance of unknown fields, refusal of newer formats."""

import json
import math

import pytest

from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.runs.errors import NewerFormatError, RunFormatError
from vae_desktop.core.runs.lines import format_batch_line, format_line, parse_lines
from vae_desktop.core.runs.schema import (
    BatchRow,
    CheckpointRecord,
    EpochRow,
    HeaderRow,
    Progress,
    RewindRow,
    RunInfo,
    iso_time,
)


def _info(**changes) -> RunInfo:
    base = RunInfo(run_id="abc", dataset="shapes", model_config={"z_dim": 2}, train_config={"epochs": 5},
                   started_at_s=1_700_000_000.25, heartbeat_at_s=1_700_000_010.5,
                   progress=Progress(epoch=3, epochs_completed=2, global_step=25, epochs_planned=5, steps_per_epoch=10),
                   checkpoints=CheckpointRecord(saves=2, epochs_completed=2, global_step=20, best_epoch=2,
                                                best_test_total=101.5),
                   software={"vae_desktop": "0.1.0"}, host="box", pid=42, kind="window", experiment="beta sweep",
                   world_size=4)
    return base.with_changes(**changes)


def test_run_json_round_trips_through_json_text():
    info = _info()
    data = json.loads(json.dumps(info.to_dict()))
    assert data["format"] == "vae-desktop-run" and data["format_version"] == "1.1"
    assert data["started_at"] == iso_time(1_700_000_000.25) == "2023-11-14T22:13:20.250Z"
    assert RunInfo.from_dict(data) == info


def test_unknown_fields_and_a_newer_minor_version_are_read():
    data = _info().to_dict()
    data.update(format_version="1.7", gpu_name="H200", progress={**data["progress"], "tokens": 5})
    info = RunInfo.from_dict(data)
    assert info.progress.global_step == 25 and info.format_version == (1, 7)


def test_a_newer_major_version_is_refused_with_a_message_to_update():
    data = {**_info().to_dict(), "format_version": "2.0"}
    with pytest.raises(NewerFormatError, match=r"newer VAE Desktop \(run format 2\.0\).*Please update the app"):
        RunInfo.from_dict(data)


@pytest.mark.parametrize("change, message", [
    ({"format": "something-else"}, "not a VAE Desktop run"),
    ({"status": "paused?"}, "unknown status"),
    ({"started_at_s": "yesterday"}, "damaged"),
    ({"progress": {"global_step": "x"}}, "damaged"),
    ({"format_version": "one"}, "unreadable format version"),
])
def test_unusable_run_json_raises_one_clear_error(change, message):
    with pytest.raises(RunFormatError, match=message):
        RunInfo.from_dict({**_info().to_dict(), **change})
    with pytest.raises(RunFormatError, match="JSON object"):
        RunInfo.from_dict([1, 2])


def test_canonical_batch_line_is_the_json_of_the_row():
    row = BatchRow(global_step=12, epoch=2, step=2, recon=101.123456, kl=-0.5, samples_per_s=4567.8, time=1.7e9 + 0.123)
    line = format_batch_line(row)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == row.to_dict()
    assert BatchRow.from_dict(json.loads(line)) == row


def test_non_finite_losses_are_written_as_null_and_read_back_as_nan():
    row = BatchRow(3, 1, 3, math.nan, math.inf, 10.0, 5.0)
    data = json.loads(format_batch_line(row))
    assert data["recon"] is None and data["kl"] is None
    parsed = parse_lines([format_batch_line(row).rstrip(b"\n")])
    assert parsed.malformed == 0 and math.isnan(parsed.batch[3, 0]) and math.isnan(parsed.batch[4, 0])


def test_epoch_row_keeps_every_epoch_metric_and_tolerates_extra_fields():
    metrics = EpochMetrics(4, 100.0, 5.0, 105.0, 101.0, 6.0, 107.0, 999.0, 2.5, (1.5, 4.5))
    row = EpochRow(metrics, global_step=40, time=1.7e9)
    data = json.loads(format_line(row.to_dict()))
    assert data["type"] == "epoch" and data["kl_per_dim"] == [1.5, 4.5] and data["test_total"] == 107.0
    data["learning_rate"] = 1e-3  # a field a newer minor version might add
    assert EpochRow.from_dict(data) == row


def test_epoch_rows_carry_active_units_and_rows_of_format_1_0_without_them_still_read():
    metrics = EpochMetrics(4, 100.0, 5.0, 105.0, 101.0, 6.0, 107.0, 999.0, 2.5, (1.5, 4.5), active_units=1)
    data = json.loads(format_line(EpochRow(metrics, global_step=40, time=1.7e9).to_dict()))
    assert data["active_units"] == 1
    assert EpochRow.from_dict(data).metrics.active_units == 1
    del data["active_units"]  # as format 1.0 wrote it
    old = EpochRow.from_dict(data).metrics
    assert old.active_units is None and old.test_total == 107.0


def test_header_and_rewind_rows_round_trip():
    assert HeaderRow.from_dict(json.loads(format_line(HeaderRow("r1").to_dict()))) == HeaderRow("r1")
    assert RewindRow.from_dict(RewindRow(30, 3, "resume").to_dict()) == RewindRow(30, 3, "resume")
    with pytest.raises(NewerFormatError):
        HeaderRow.from_dict({**HeaderRow("r1").to_dict(), "format_version": "3.1"})
