"""Parsing many metrics.jsonl lines at once: the fast path gives exactly what json.loads gives."""

import json

import numpy as np

from vae_desktop.core.runs.lines import format_batch_line, format_line, parse_lines
from vae_desktop.core.runs.schema import BATCH_FIELDS, BatchRow, RewindRow

from .conftest import epoch_metrics


def _rows(n: int, start: int = 1) -> list[BatchRow]:
    rng = np.random.default_rng(start)
    return [BatchRow(g, (g - 1) // 100 + 1, (g - 1) % 100 + 1, float(100 + rng.normal()), float(rng.random()),
                     float(5000 + rng.random()), 1.7e9 + g / 10) for g in range(start, start + n)]


def _canonical(rows: list[BatchRow]) -> list[bytes]:
    return [format_batch_line(r).rstrip(b"\n") for r in rows]


def test_fast_path_equals_json_loads_of_each_line():
    rows = _rows(20_000)
    lines = _canonical(rows)
    parsed = parse_lines(lines)
    expected = np.array([[json.loads(line)[name] for line in lines] for name in BATCH_FIELDS])
    assert parsed.malformed == 0 and parsed.batch.shape == (7, 20_000)
    np.testing.assert_array_equal(parsed.batch, expected)


def test_lines_in_another_form_read_the_same_as_canonical_ones():
    rows = _rows(500)
    rows[10] = BatchRow(11, 1, 11, 99.5, 1e-05, 5000.0, 1.7e9)  # json.dumps writes this KL as 1e-05
    other = [json.dumps(dict(reversed(list(r.to_dict().items())))).encode() for r in rows]  # keys reordered
    assert b"1e-05" in other[10]
    exact = np.array([r.values() for r in rows]).T
    parsed_other, parsed_canonical = parse_lines(other), parse_lines(_canonical(rows))
    assert parsed_other.malformed == parsed_canonical.malformed == 0
    np.testing.assert_array_equal(parsed_other.batch, exact)
    np.testing.assert_allclose(parsed_canonical.batch, exact, rtol=0, atol=0.05)  # canonical lines round


def test_garbage_blank_and_unknown_lines_among_good_ones():
    lines = _canonical(_rows(10))
    lines[2:2] = [b"not json", b"", b"   ", b'{"type":"batch","global_step":"eleven"}', b"[1,2]",
                  b'{"type":"gradient_norms","norms":[1]}', b'{"no_type":1}', b"\xff\xfe garbage",
                  b'{"type":"batch","global_step":1,"epoch":1,"step":1,"recon":1.2.3,"kl":,"samples_per_s":1,"time":1}']
    lines.append(format_line({**epoch_metrics(1).__dict__, "type": "epoch", "kl_per_dim": [2.0, 2.0]}).rstrip(b"\n"))
    parsed = parse_lines(lines)
    # not json, "eleven", [1,2], no type, invalid UTF-8, the 1.2.3 line; blank lines and unknown types are skipped
    assert parsed.malformed == 6
    assert list(parsed.batch[0]) == list(range(1, 11))
    assert [e.metrics.epoch for e in parsed.epochs] == [1]


def test_a_rewind_drops_earlier_rows_past_its_point_and_keeps_later_ones():
    rows = _rows(30)
    lines = _canonical(rows[:25])  # steps 1..25 were logged, then the run resumed from step 20
    lines.insert(10, format_line({**epoch_metrics(1).__dict__, "type": "epoch", "kl_per_dim": []}).rstrip(b"\n"))
    lines.append(format_line({**epoch_metrics(2).__dict__, "type": "epoch", "kl_per_dim": []}).rstrip(b"\n"))
    lines.append(format_line(RewindRow(20, 1, "resume").to_dict()).rstrip(b"\n"))
    lines += _canonical(_rows(10, start=21))
    parsed = parse_lines(lines)
    assert list(parsed.batch[0]) == list(range(1, 31))
    assert [e.metrics.epoch for e in parsed.epochs] == [1]
    assert parsed.rewind == RewindRow(20, 1, "resume")


def test_a_rewind_applies_to_rows_of_earlier_blocks_too():
    lines = _canonical(_rows(20_000)) + [format_line(RewindRow(100, 0).to_dict()).rstrip(b"\n")]
    lines += _canonical(_rows(5, start=101))
    parsed = parse_lines(lines)
    assert list(parsed.batch[0]) == list(range(1, 106))


def test_keys_in_another_order_after_the_canonical_prefix_still_land_in_their_columns():
    swapped = b'{"type":"batch","global_step":7,"epoch":1,"step":7,"kl":5.5,"recon":99.25,"samples_per_s":10.0,"time":1.0}'
    parsed = parse_lines(_canonical(_rows(3)) + [swapped])
    assert parsed.malformed == 0
    assert parsed.batch[0, -1] == 7 and parsed.batch[3, -1] == 99.25 and parsed.batch[4, -1] == 5.5
