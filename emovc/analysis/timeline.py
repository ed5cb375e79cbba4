"""Emotion over time for long recordings: per window (or per ASR segment) the voice's emotion,
the words said in it, their emotion and the fused one; summary statistics; CSV/JSON/Parquet.

    from emovc.analysis import Analyzer, timeline
    t = timeline.analyse("talk.wav", Analyzer(config))      # or segments="asr"
    t.frame        # pandas DataFrame indexed by (file, start, end), as opensmile-python's
    t.summary      # share of time per emotion, longest stretch, changes per minute
    t.save("talk.csv"); analysis.plots.plot_timeline(t, "talk.png")

The models are an `Analyzer`'s: the recogniser's windows (`Recognizer.recognise`, whose overall
emotion is the recording's, the same as detect.py gives), the ASR backend over the file, the
words' emotion and fusion per row. The file is read block by block (`core.audio.Reader`), so
memory is bounded by a block and a window, not by the file's length.
"""
import json
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emovc.asr import NoSpeechWarning
from emovc.core.audio import SR, Reader, Source, atomic_path, window_spans
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS, SILENCE
from emovc.ser.recognizer import owned_edges as span_edges

FORMATS = ("csv", "json", "parquet")

__all__ = ["Timeline", "analyse", "summarise", "FORMATS"]


@dataclass
class Timeline:
    """The rows (`frame`), their `summary`, and what the plot needs (envelope, ASR segments)."""
    file: str
    duration: float
    frame: object                                       # pandas.DataFrame indexed by (file, start, end)
    summary: dict
    envelope: np.ndarray = field(repr=False)            # (n, 2): min, max per core.audio.ENVELOPE_S
    recognition: object = field(default=None, repr=False)   # ser.Recognition: the windows' emotions
    transcript: object = None                           # asr.Transcript (None without words)

    @property
    def segments(self) -> list:
        """The ASR segments (asr.Segment), for the words under the plot."""
        return [] if self.transcript is None else self.transcript.segments

    @property
    def emotion(self):
        """The recording's emotion (the windows' together): what detect.py and predict.py say."""
        return self.recognition.overall

    def to_dict(self) -> dict:
        rows = []
        for (_, start, end), row in self.frame.iterrows():
            probabilities = {e: None if np.isnan(row[e]) else round(float(row[e]), 4) for e in EMOTIONS}
            rows.append({"start": start, "end": end, "label": row["label"], "probabilities": probabilities,
                         "words": row["words"], "text_label": row["text_label"], "fused_label": row["fused_label"]})
        emotion = None if self.recognition is None or self.emotion is None else self.emotion.to_dict()
        return {"file": self.file, "duration_s": round(self.duration, 3), "emotion": emotion,
                "summary": self.summary, "rows": rows}

    def save(self, path: str | Path, kind: str | None = None) -> Path:
        """Write as `kind` ('csv', 'json', 'parquet'; default: from the suffix); never overwrites."""
        path = Path(path)
        kind = kind or path.suffix.lower().lstrip(".")
        if kind not in FORMATS:
            raise UserError(f"{path}: unknown table format; use a name ending in .{', .'.join(FORMATS)}")
        check_new(path)
        with atomic_path(path) as tmp:
            if kind == "csv":
                self.frame.to_csv(tmp)
            elif kind == "json":
                tmp.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            else:
                self.frame.to_parquet(tmp)
        return path


def check_new(path: Path) -> None:
    """Refuse, before any work, to write over an existing output."""
    if path.exists():
        raise UserError(f"{path}: already exists; choose another name (outputs are never overwritten)")


def analyse(path: str | Path, analyzer, *, window_s: float | None = None, hop_s: float | None = None,
            segments: str = "windows", text: bool = True, progress: bool = True) -> Timeline:
    """The emotion timeline of one recording with an `analysis.Analyzer`'s models.

    `segments="windows"`: windows of `window_s` every `hop_s` seconds (default: the config's
    `ser.window_s`, `ser.hop_s`), edges moved to nearby pauses; `"asr"`: one row per ASR segment.
    `text` adds the words (ASR), their emotion and the fused label.
    """
    if segments not in ("windows", "asr"):
        raise UserError(f"segments must be 'windows' or 'asr', got {segments!r}")
    window_s = analyzer.config.ser.window_s if window_s is None else window_s
    hop_s = analyzer.config.ser.hop_s if hop_s is None else hop_s
    if segments == "windows" and not 0 < hop_s <= window_s:
        raise UserError(f"need 0 < hop ({hop_s:g} s) <= window ({window_s:g} s)")
    reader = Reader(Source(path))
    reader.ensure(1)                # a missing, empty or corrupt file fails here, before models load
    analyzer.load(asr=text or segments == "asr")
    return timeline_of(analyzer, reader, str(path), window_s, hop_s, segments, text, progress)


def timeline_of(analyzer, reader: Reader, name: str, window_s: float | None = None, hop_s: float | None = None,
                segments: str = "windows", text: bool = True, progress: bool = True) -> Timeline:
    """`analyse` on a Reader whose models are loaded (what `Analyzer.analyse(timeline=True)` uses)."""
    cfg = analyzer.config.ser
    transcript = _transcribe(analyzer, reader.source.audio, name, progress) if text or segments == "asr" else None
    bar = _progress(reader) if progress else None
    try:
        if segments == "asr":
            spans = _segment_spans(reader, transcript.segments)
        else:
            spans = window_spans(reader, cfg.window_s if window_s is None else window_s,
                                 cfg.hop_s if hop_s is None else hop_s)
        found = analyzer.recognizer.window_features(reader, spans)
        reader.finish()
    finally:
        if bar is not None:
            bar.close()
    recognition = analyzer.recognizer.combine(
        found, cfg.normalise_min_windows if cfg.normalise == "recording" else None)
    adapter = analyzer.session_adapter()         # with ser.adapt, the rows learn the speaker as they go;
    shown = recognition if adapter is None else analyzer.recognizer.combine(found, adapter=adapter)
    rows = _rows(analyzer, shown, transcript.segments if transcript and text else [], name, text)
    if not rows:
        raise UserError(f"{name}: no audio to analyse")
    import pandas as pd
    frame = pd.DataFrame(rows).set_index(["file", "start", "end"])
    return Timeline(name, reader.duration, frame, summarise(frame), reader.envelope(), recognition, transcript)


def _rows(analyzer, recognition, found: list, name: str, text: bool) -> list[dict]:
    """One row per window: the voice's emotion, the words of the segments whose centre lies in the
    part of time the row owns (overlapping windows split at the midpoints between their centres,
    so each segment is said once), their emotion, the fused one."""
    windows = recognition.windows
    if not windows:
        return []
    edges = span_edges([span for span, _ in windows])
    edges[0], edges[-1] = -np.inf, np.inf
    rows = []
    for ((t0, t1), voice), own_start, own_end in zip(windows, edges, edges[1:]):
        words = " ".join(s.text for s in found if own_start <= (s.start + s.end) / 2 < own_end) if text else ""
        said, fused = analyzer.read_words(words, voice)
        rows.append({"file": name, "start": round(t0, 3), "end": round(t1, 3),
                     "label": voice.label if voice else SILENCE,
                     **{e: voice.probabilities.get(e, 0.0) if voice else np.nan for e in EMOTIONS},
                     "words": words, "text_label": said.label if said else "",
                     "fused_label": fused.label if fused else ""})
    return rows


def summarise(frame, column: str = "label") -> dict:
    """Share of time per emotion, the longest stretch of one emotion, changes per minute.

    Overlapping rows are split at the midpoints between their centres, so each second counts once.
    """
    labels = frame[column].to_numpy()
    edges = owned_edges(frame)
    own = np.diff(edges)
    total = float(own.sum())
    speech = labels != SILENCE
    kinds = [*EMOTIONS, *sorted(set(labels) - {*EMOTIONS, SILENCE}), SILENCE]     # e.g. 'uncertain'
    share = {e: round(float(own[labels == e].sum() / total), 4) for e in kinds}
    best, run_start, run = (None, 0.0, 0.0), 0, 0.0
    for i in range(len(labels)):
        if i == 0 or labels[i] != labels[i - 1]:
            run_start, run = i, 0.0
        run += own[i]
        if speech[i] and run > best[2]:
            best = (labels[i], float(edges[run_start]), run)
    spoken = labels[speech]
    changes = int((spoken[1:] != spoken[:-1]).sum())
    return {"by": column, "duration_s": round(total, 3), "share": share,
            "longest": {"label": best[0], "start": round(best[1], 3), "end": round(best[1] + best[2], 3),
                        "duration_s": round(best[2], 3)},
            "changes": changes, "changes_per_minute": round(changes / (total / 60), 3) if total else 0.0}


def owned_edges(frame) -> np.ndarray:
    """Edges splitting the rows' time into one part per row, at the midpoints between centres."""
    starts = frame.index.get_level_values("start").to_numpy(float)
    ends = frame.index.get_level_values("end").to_numpy(float)
    return span_edges(list(zip(starts, ends)))


def _transcribe(analyzer, audio, name: str, progress: bool):
    """The ASR backend over the whole recording (it streams long files itself), with timed segments."""
    if progress:
        print(f"transcribing {name}…", file=sys.stderr, flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoSpeechWarning)     # no speech: no words, rows still come
        return analyzer.asr.transcribe(audio)


def _progress(reader: Reader):
    """A progress bar on stderr, in seconds of audio read."""
    from tqdm import tqdm
    total = _duration(reader.source.audio)
    bar = tqdm(total=None if total is None else round(total), initial=int(reader.duration),
               unit="s", desc="timeline", file=sys.stderr)
    reader.on_read = lambda seconds: bar.update(int(seconds) - bar.n)
    return bar


def _segment_spans(reader: Reader, found: list):
    """(start, end) samples of each ASR segment, in order."""
    for i, segment in enumerate(found):
        start, end = int(segment.start * SR), int(segment.end * SR)
        reader.ensure(end)
        if end - start > 0:
            yield max(start, reader.start), min(end, reader.end)
        if i + 1 < len(found):
            reader.drop(int(found[i + 1].start * SR))
    reader.finish()


def _duration(audio) -> float | None:
    import soundfile as sf
    try:
        return sf.info(str(audio)).duration
    except Exception:
        return None
