"""asr.evaluate: text normalisation, WER/CER arithmetic, and the CLI on a two-row manifest."""
import csv

import pytest

from emovc.asr.evaluate import cer, edit_distance, errors, main, normalise_text, read_manifest, readings, wer
from emovc.core.errors import UserError


@pytest.mark.parametrize("raw, expected", [
    ("Kids are talking by the door!", "kids are talking by the door"),
    ("DOGS, are sitting... by the door?", "dogs are sitting by the door"),
    ("I'm 21st of 1,000 (3.5%)", "im twenty first of one thousand three point five percent"),
    ("It’s  well-known", "its well known"),
])
def test_normalise_text(raw, expected):
    assert normalise_text(raw) == expected


def test_wer_and_cer_count_edits_over_reference_length():
    assert edit_distance("kitten", "sitting") == 3
    assert wer("a b c d", "a x c") == 0.5                   # one substitution, one deletion
    assert wer("Kids are talking", "kids, are TALKING!") == 0.0
    assert wer("a", "a b c") == 2.0                         # insertions can push WER above 1
    assert cer("abcd", "abce") == 0.25
    assert wer("", "") == 0.0 and wer("", "two words") == 2.0


def test_a_dot_written_clock_time_also_reads_as_a_time():
    assert readings("at 7.45") == ["at seven point four five", "at seven forty five"]
    assert wer("The train leaves at 7:45.", "The train leaves at 7.45.") == 0.0
    assert wer("It weighs 7.45 kilos", "It weighs 7.45 kilos") == 0.0           # the decimal reading still counts
    assert errors("at 7:45", "at 7.46") == (1, 4)                               # seven forty six: one word off
    assert readings("pi is 3.14159") == ["pi is three point one four one five nine"]   # not a time
    assert len(readings("at 25.10")) == 1 and len(readings("at 7.75")) == 1 and len(readings("1.2.30")) == 1
    assert cer("at 7:45", "at 7.45") == 0.0


def two_row_manifest(tmp_path, shared_data):
    """Two real clips; the second row's reference names the other sentence (2 of 6 words differ)."""
    kids = shared_data / "ravdess" / "Actor_01" / "03-01-01-01-01-01-01.flac"
    also_kids = shared_data / "ravdess" / "Actor_02" / "03-01-01-01-01-01-02.flac"
    manifest = tmp_path / "two.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "text", "emotion"])
        writer.writerow([kids, "Kids are talking by the door", "neutral"])
        writer.writerow([also_kids, "Dogs are sitting by the door", "neutral"])
    return manifest


def test_cli_reports_known_wer_on_two_rows(tmp_path, shared_data, capsys):
    manifest = two_row_manifest(tmp_path, shared_data)
    out = tmp_path / "per_file.csv"
    assert main([str(manifest), "--model", "tiny.en", "--by", "emotion", "--out", str(out)]) == 0
    table = capsys.readouterr().out.splitlines()
    all_row = next(line.split() for line in table if line.startswith("all"))
    assert all_row[1:4] == ["2", "12", "16.67"]             # 2 substituted words of 12
    assert any(line.startswith("emotion=neutral") for line in table)
    rows = list(csv.DictReader(open(out)))
    assert [int(r["word_errors"]) for r in rows] == [0, 2]
    with pytest.raises(UserError, match="already exists"):
        main([str(manifest), "--model", "tiny.en", "--out", str(out)])


def test_manifest_errors(tmp_path, shared_data):
    bad = tmp_path / "bad.csv"
    bad.write_text("file,transcript\nx.wav,hello\n")
    with pytest.raises(UserError, match="lacks column"):
        read_manifest(bad)
    with pytest.raises(UserError, match="not found"):
        read_manifest(tmp_path / "missing.csv")
    with pytest.raises(UserError, match="no such manifest column; have: path, text, emotion"):
        main([str(two_row_manifest(tmp_path, shared_data)), "--by", "colour"])


def test_limit_takes_a_fixed_sample_in_manifest_order(shared_data):
    rows = read_manifest(shared_data / "ravdess" / "manifest.csv", limit=40)
    assert len(rows) == 40 and rows == read_manifest(shared_data / "ravdess" / "manifest.csv", limit=40)
    assert len({r["emotion"] for r in rows}) > 4 and rows == sorted(rows, key=lambda r: r["path"])
