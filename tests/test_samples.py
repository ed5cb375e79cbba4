"""samples/neutral: the manifest lists every recording, with its speaker, duration, source and licence."""
import csv
from pathlib import Path

import pytest
import soundfile as sf

NEUTRAL = Path(__file__).resolve().parents[1] / "samples" / "neutral"


def _rows():
    with open(NEUTRAL / "manifest.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_recording_is_listed_once():
    listed = [r["path"] for r in _rows()]
    on_disk = sorted(p.name for p in NEUTRAL.iterdir() if p.suffix in (".wav", ".flac"))
    assert sorted(listed) == on_disk and len(set(listed)) == len(listed)


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["path"])
def test_each_row_matches_its_file_and_names_source_and_licence(row):
    info = sf.info(NEUTRAL / row["path"])
    assert info.samplerate == 16000 and info.channels == 1
    assert info.duration == pytest.approx(float(row["seconds"]), abs=0.01)
    assert row["speaker"] and row["sex"] in ("female", "male") and row["source"] and row["licence"]
