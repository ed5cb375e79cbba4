"""emovc/analysis/timeline.py and timeline.py: emotion over time on a real multi-emotion recording.

The recording is made at test time from RAVDESS clips with known labels (actor 2: three angry,
three sad, three happy clips, strong intensity). The shipped SER model was trained on all of
RAVDESS, so these clips are not unseen: the test checks the timeline (windows, cuts at pauses,
change detection, statistics, writers, plot), not how well the recogniser generalises.
"""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emovc.commands import timeline as timeline_cli
from emovc.core.audio import BLOCK_S, ENVELOPE_S, SNAP_S, SR, Reader, Source, load_audio, window_spans
from emovc.core.config import load_config
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS
from emovc.convert import DetectConfig
from emovc.analysis import Analyzer
from emovc.analysis.plots import plot_timeline
from emovc.analysis.timeline import analyse, summarise

WINDOW, HOP = 4.0, 2.0
CLIPS = [("angry", 5), ("sad", 4), ("happy", 3)]


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(load_config("configs/detect.yaml", DetectConfig))


@pytest.fixture(scope="module")
def multi(shared_data, tmp_path_factory):
    """(path, [(emotion, start_s, end_s)]) of the concatenated recording."""
    parts, truth, t = [], [], 0.0
    for emotion, code in CLIPS:
        start = t
        for statement, repetition in ((1, 1), (1, 2), (2, 1)):
            wav, _ = load_audio(shared_data / "ravdess" / "Actor_02" /
                                f"03-01-{code:02d}-02-{statement:02d}-{repetition:02d}-02.flac", sr=SR)
            parts.append(wav)
            t += len(wav) / SR
        truth.append((emotion, start, t))
    path = tmp_path_factory.mktemp("timeline") / "multi.wav"
    sf.write(path, np.concatenate(parts), SR)
    return path, truth


@pytest.fixture(scope="module")
def voice_timeline(analyzer, multi):
    return analyse(multi[0], analyzer, window_s=WINDOW, hop_s=HOP, text=False, progress=False)


def test_finds_each_change_within_one_window(voice_timeline, multi):
    path, truth = multi
    frame = voice_timeline.frame
    assert frame.index.names == ["file", "start", "end"]
    assert list(frame.columns[:len(EMOTIONS) + 1]) == ["label", *EMOTIONS]
    starts = frame.index.get_level_values("start").to_numpy()
    ends = frame.index.get_level_values("end").to_numpy()
    assert starts[0] == 0 and ends[-1] == pytest.approx(truth[-1][2], abs=0.01)
    labels = frame["label"].to_numpy()
    changes = [(starts[i] + ends[i - 1]) / 2 for i in range(1, len(labels)) if labels[i] != labels[i - 1]]
    for _, _, boundary in truth[:-1]:
        assert any(abs(c - boundary) <= WINDOW for c in changes), (boundary, changes)
    assert len(changes) <= len(truth) - 1 + 2          # at most one passing label per change
    for emotion, t0, t1 in truth:                       # rows wholly inside a part carry its label
        inside = labels[(starts >= t0) & (ends <= t1)]
        assert len(inside) >= 2 and np.mean(inside == emotion) >= 0.75, (emotion, inside)


def test_summary_statistics(voice_timeline, multi):
    _, truth = multi
    s = voice_timeline.summary
    assert s["duration_s"] == pytest.approx(truth[-1][2], abs=0.01)
    assert sum(s["share"].values()) == pytest.approx(1.0, abs=1e-3)
    for emotion, t0, t1 in truth:
        assert s["share"][emotion] == pytest.approx((t1 - t0) / truth[-1][2], abs=0.15)
    assert s["longest"]["label"] in {e for e, _, _ in truth} and 6.0 <= s["longest"]["duration_s"] <= 14.0
    assert s["changes_per_minute"] == pytest.approx(s["changes"] / (s["duration_s"] / 60), rel=1e-3)


def test_windows_are_cut_at_pauses(voice_timeline, multi):
    """Window edges sit in quiet frames far more often than fixed 2 s steps would (47 % here)."""
    wav, _ = load_audio(multi[0])
    energy = (wav[: len(wav) // 160 * 160].reshape(-1, 160) ** 2).sum(axis=1)
    quiet = lambda times: np.mean([energy[min(int(t * 100), len(energy) - 1)] <= np.median(energy)
                                   for t in times if 0 < t < len(wav) / SR - 0.05])
    index = voice_timeline.frame.index
    cut = np.concatenate([index.get_level_values("start"), index.get_level_values("end")])
    fixed = np.concatenate([np.arange(len(index)) * HOP, np.arange(len(index)) * HOP + WINDOW])
    assert quiet(cut) >= 0.7 and quiet(cut) >= quiet(fixed) + 0.2


def test_summarise_by_hand():
    index = pd.MultiIndex.from_tuples([("f", 0.0, 4.0), ("f", 2.0, 6.0), ("f", 4.0, 8.0), ("f", 6.0, 10.0)],
                                      names=["file", "start", "end"])
    frame = pd.DataFrame({"label": ["sad", "sad", "silence", "happy"]}, index=index)
    s = summarise(frame)        # centres 2, 4, 6, 8: each row owns 3, 2, 2, 3 s of the 10 s
    assert s["share"]["sad"] == 0.5 and s["share"]["silence"] == 0.2 and s["share"]["happy"] == 0.3
    assert s["longest"] == {"label": "sad", "start": 0.0, "end": 5.0, "duration_s": 5.0}
    assert s["changes"] == 1 and s["changes_per_minute"] == 6.0     # silence is not a change
    frame["label"] = ["sad", "uncertain", "uncertain", "happy"]     # the recogniser's low-confidence label
    s = summarise(frame)
    assert s["share"]["uncertain"] == 0.4 and sum(s["share"].values()) == pytest.approx(1.0)


def test_long_file_is_read_in_bounded_memory(tmp_path):
    """150 s (longer than a block, so streamed): spans cover it, the buffer stays small."""
    rng = np.random.default_rng(0)
    seconds = 2.5 * BLOCK_S
    t = np.arange(int(seconds * 8000)) / 8000                  # 8 kHz: resampled while streaming
    wav = (0.3 * rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 0.4 * t) > -0.3)).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, wav, 8000)
    reader = Reader(Source(path))
    spans, largest = [], 0
    for span in window_spans(reader, WINDOW, HOP):
        spans.append(span)
        largest = max(largest, len(reader.buf))
    assert largest <= (BLOCK_S + WINDOW + 2 * SNAP_S) * SR
    assert spans[0][0] == 0 and spans[-1][1] == reader.end == pytest.approx(seconds * SR, abs=SR // 100)
    assert all(b[0] < a[1] for a, b in zip(spans, spans[1:]))     # overlapping: no gap
    assert np.diff([s for s, _ in spans]).max() <= (HOP + 2 * SNAP_S) * SR
    assert len(reader.envelope()) == pytest.approx(seconds / ENVELOPE_S, abs=2)


def test_overlapping_windows_say_each_segment_once(analyzer, multi):
    """Windows overlap (4 s every 2 s); a segment's words go to the one window owning its centre,
    never to two ("... by the door. by the door.")."""
    t = analyse(multi[0], analyzer, window_s=WINDOW, hop_s=HOP, progress=False)
    said = [s.text for s in t.segments]
    assert len(said) >= 3 and all("door" in text for text in said), said
    assert " ".join(w for w in t.frame["words"] if w) == " ".join(said)
    assert all(not w or w.count("door") <= 2 for w in t.frame["words"])   # a 4 s window holds two clips at most


def test_asr_segments_words_text_emotion_writers_and_plot(analyzer, tmp_path):
    t = analyse("samples/sample.wav", analyzer, segments="asr", progress=False)
    assert len(t.frame) == len(t.segments) >= 1
    assert " ".join(t.frame["words"]) == " ".join(s.text for s in t.segments)
    assert "nobody came" in " ".join(t.frame["words"]).lower()
    assert set(t.frame["text_label"]) <= set(EMOTIONS) and set(t.frame["fused_label"]) <= {*EMOTIONS, "uncertain"}

    csv, js, pq, png = (tmp_path / f"t.{ext}" for ext in ("csv", "json", "parquet", "png"))
    for path in (csv, js, pq):
        t.save(path)
    back = pd.read_csv(csv, index_col=[0, 1, 2])
    assert list(back.index.names) == ["file", "start", "end"] and list(back["label"]) == list(t.frame["label"])
    assert pd.read_parquet(pq).equals(t.frame)
    data = json.loads(js.read_text())
    assert data["summary"] == t.summary and len(data["rows"]) == len(t.frame)
    assert set(data["rows"][0]["probabilities"]) == set(EMOTIONS)
    with pytest.raises(UserError, match="already exists"):
        t.save(csv)
    plot_timeline(t, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image
    assert matplotlib.image.imread(png).shape[1] >= 800


def test_cli_writes_outputs_and_refuses_to_overwrite(multi, tmp_path, capsys):
    out = tmp_path / "rows.csv"
    assert timeline_cli.main([str(multi[0]), "--no-text", "--window", "6", "--hop", "3", "--csv", str(out),
                              "--json", "--plot", str(tmp_path / "t.png")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["share"]["angry"] > 0.2 and (tmp_path / "t.png").stat().st_size > 10_000
    before = out.read_bytes()
    with pytest.raises(UserError, match="already exists"):
        timeline_cli.main([str(multi[0]), "--csv", str(out)])
    assert out.read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["missing.wav"], "missing.wav: no such file"),
    (["samples/sample.wav", "--window", "2", "--hop", "3"], "hop"),
    (["samples/sample.wav", "--segments", "asr", "--no-text"], "needs the transcript"),
    (["samples/sample.wav", "--set", "text.model=bert"], "unknown text emotion model"),
])
def test_bad_input_is_a_one_line_error(args, message):
    result = subprocess.run([sys.executable, "timeline.py", *args], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_is_fast():
    result = subprocess.run([sys.executable, "-X", "importtime", "timeline.py", "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "--segments" in result.stdout
    assert "numpy" not in result.stderr and "pandas" not in result.stderr
