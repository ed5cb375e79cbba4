"""Emotion over time for long recordings: per window (or per ASR segment) the voice's emotion,
the words said in it, their emotion and the fused one; summary statistics; CSV/JSON/Parquet.

    from convert.timeline import analyse, plot_timeline
    t = analyse("talk.wav", window_s=4, hop_s=2)        # or segments="asr"
    t.frame        # pandas DataFrame indexed by (file, start, end), as opensmile-python's
    t.summary      # share of time per emotion, longest stretch, changes per minute
    t.save("talk.csv"); plot_timeline(t, "talk.png")

The models are detect.py's, through a `convert.Converter` (pass one to load them once):
`Converter.detect_emotion` per window, the ASR backend over the file, `Converter.read_words`
for text emotion and fusion. The file is read block by block (`asr.windows.Source`), so memory
is bounded by a block and a window, not by the file's length.
"""
import json
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asr.windows import SR, Source
from core.audio import atomic_path
from core.errors import UserError
from core.labels import EMOTIONS
from convert.plots import plot_timeline

ENVELOPE_S = 0.01       # the waveform kept for the plot: min and max per 10 ms
SNAP_S = 0.5            # window edges move to the quietest 10 ms within this distance
FORMATS = ("csv", "json", "parquet")

__all__ = ["Timeline", "analyse", "plot_timeline", "summarise", "FORMATS"]


@dataclass
class Timeline:
    """The rows (`frame`), their `summary`, and what the plot needs (envelope, ASR segments)."""
    file: str
    duration: float
    frame: object                                       # pandas.DataFrame indexed by (file, start, end)
    summary: dict
    envelope: np.ndarray = field(repr=False)            # (n, 2): min, max per ENVELOPE_S
    segments: list = field(default_factory=list)        # asr.Segment, for the words under the plot

    def to_dict(self) -> dict:
        rows = []
        for (_, start, end), row in self.frame.iterrows():
            probabilities = {e: None if np.isnan(row[e]) else round(float(row[e]), 4) for e in EMOTIONS}
            rows.append({"start": start, "end": end, "label": row["label"], "probabilities": probabilities,
                         "words": row["words"], "text_label": row["text_label"], "fused_label": row["fused_label"]})
        return {"file": self.file, "duration_s": round(self.duration, 3), "summary": self.summary, "rows": rows}

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


def analyse(path: str | Path, *, window_s: float = 4.0, hop_s: float = 2.0, segments: str = "windows",
            converter=None, config: str | Path = "configs/detect.yaml", text: bool = True,
            progress: bool = True) -> Timeline:
    """The emotion timeline of one recording.

    `segments="windows"`: windows of `window_s` every `hop_s` seconds, edges moved to nearby pauses;
    `"asr"`: one row per ASR segment. `text` adds the words (ASR), their emotion and the fused label.
    `converter` (a `convert.Converter`) supplies loaded models; else one is made from `config`.
    """
    if segments not in ("windows", "asr"):
        raise UserError(f"segments must be 'windows' or 'asr', got {segments!r}")
    if segments == "windows" and not 0 < hop_s <= window_s:
        raise UserError(f"need 0 < hop ({hop_s:g} s) <= window ({window_s:g} s)")
    if converter is None:
        from core.config import load_config
        from convert.config import DetectConfig
        from convert.pipeline import Converter
        converter = Converter(load_config(config, DetectConfig))
    path = Path(path)
    reader = _Reader(Source(path))
    try:
        reader.ensure(1)                # a missing, empty or corrupt file fails here, before models load
        words_wanted = text or segments == "asr"
        converter.load(asr=words_wanted)
        found = _transcribe(converter, path, progress) if words_wanted else []
        if progress:
            reader.show_progress()
        spans = _segment_spans(reader, found) if segments == "asr" else _window_spans(reader, window_s, hop_s)
        rows = _rows(converter, reader, spans, found, path, text)
    finally:
        reader.close()
    if not rows:
        raise UserError(f"{path}: no audio to analyse")
    import pandas as pd
    frame = pd.DataFrame(rows).set_index(["file", "start", "end"])
    return Timeline(str(path), reader.duration, frame, summarise(frame), reader.envelope(), found)


def _rows(converter, reader, spans, found, path, text) -> list[dict]:
    """One row per span: the voice's emotion, the words of the segments whose centre lies in the
    part of time the row owns (overlapping windows split at the midpoints between their centres,
    so each segment is said once), their emotion, the fused one."""
    adapter = converter.session_adapter()             # one per recording: it learns the speaker
    voices = [(start / SR, end / SR, converter.detect_emotion(reader.audio(start, end), adapter))
              for start, end in spans]
    if not voices:
        return []
    centres = [(t0 + t1) / 2 for t0, t1, _ in voices]
    edges = [-np.inf, *((a + b) / 2 for a, b in zip(centres, centres[1:])), np.inf]
    rows = []
    for (t0, t1, voice), own_start, own_end in zip(voices, edges, edges[1:]):
        words = " ".join(s.text for s in found if own_start <= (s.start + s.end) / 2 < own_end) if text else ""
        said, fused = converter.read_words(words, voice)
        rows.append({"file": str(path), "start": round(t0, 3), "end": round(t1, 3),
                     "label": voice.label if voice else "silence",
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
    speech = labels != "silence"
    kinds = [*EMOTIONS, *sorted(set(labels) - {*EMOTIONS, "silence"}), "silence"]     # e.g. 'uncertain'
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
    centres = (starts + ends) / 2
    return np.concatenate([[starts[0]], (centres[1:] + centres[:-1]) / 2, [ends[-1]]])


def _transcribe(converter, path: Path, progress: bool) -> list:
    """The ASR backend over the whole file (it streams long files itself); its timed segments."""
    from asr import NoSpeechWarning
    if progress:
        print(f"transcribing {path}…", file=sys.stderr, flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoSpeechWarning)     # no speech: no words, rows still come
        return converter.asr.transcribe(path).segments


class _Reader:
    """16 kHz audio from `Source.blocks()`, kept only from a moving start point on."""

    def __init__(self, source: Source):
        self.source, self.blocks = source, source.blocks()
        self.buf, self.start, self.done = np.zeros(0, np.float32), 0, False
        self.bins: list[np.ndarray] = []
        self.rest = np.zeros(0, np.float32)               # samples not yet in an envelope bin
        self.bar = None

    def show_progress(self) -> None:
        """A progress bar on stderr, in seconds of audio read, from now on."""
        from tqdm import tqdm
        total = _duration(self.source.audio)
        self.bar = tqdm(total=None if total is None else round(total), initial=int(self.duration),
                        unit="s", desc="timeline", file=sys.stderr)

    @property
    def end(self) -> int:
        return self.start + len(self.buf)

    @property
    def duration(self) -> float:
        return self.end / SR

    def ensure(self, sample: int) -> None:
        """Read blocks until `sample` is in the buffer or the file ends."""
        while not self.done and self.end < sample:
            block, self.done = next(self.blocks)
            self.buf = np.concatenate([self.buf, block])
            self._envelope(block)
            if self.bar is not None:
                self.bar.update(int(self.duration) - self.bar.n)

    def audio(self, a: int, b: int) -> np.ndarray:
        return self.buf[a - self.start:b - self.start]

    def drop(self, before: int) -> None:
        cut = before - self.start
        if cut > 0:
            self.buf, self.start = self.buf[cut:], before

    def quietest(self, sample: int) -> int:
        """The middle of the quietest 10 ms within SNAP_S of `sample` (in the buffer)."""
        hop = SR // 100
        lo, hi = max(sample - int(SNAP_S * SR), self.start), min(sample + int(SNAP_S * SR), self.end)
        piece = self.audio(lo, hi)
        if len(piece) < 2 * hop:
            return min(max(sample, self.start), self.end)
        energy = (piece[: len(piece) // hop * hop].reshape(-1, hop) ** 2).sum(axis=1)
        return lo + int(np.argmin(energy)) * hop + hop // 2

    def _envelope(self, block: np.ndarray) -> None:
        size = int(ENVELOPE_S * SR)
        x = np.concatenate([self.rest, block])
        n = len(x) // size
        if n:
            frames = x[: n * size].reshape(n, size)
            self.bins.append(np.stack([frames.min(1), frames.max(1)], axis=1))
        self.rest = x[n * size:]

    def envelope(self) -> np.ndarray:
        return np.concatenate(self.bins) if self.bins else np.zeros((0, 2), np.float32)

    def finish(self) -> None:
        """Read the rest block by block (for the envelope and the duration), keeping none of it."""
        while not self.done:
            self.drop(self.end)
            self.ensure(self.end + 1)
        self.drop(self.end)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _window_spans(reader: _Reader, window_s: float, hop_s: float):
    """(start, end) samples of windows every `hop_s`, edges at nearby pauses, covering the file."""
    window, hop, margin = int(window_s * SR), int(hop_s * SR), int(SNAP_S * SR)
    k, previous_end = 0, 0
    while True:
        nominal = k * hop
        reader.ensure(nominal + window + margin)
        if reader.done and (nominal >= reader.end or (k > 0 and previous_end >= reader.end)):
            return
        start = reader.quietest(nominal) if k else 0
        at_end = reader.done and nominal + window + margin >= reader.end
        end = reader.end if at_end else reader.quietest(nominal + window)
        if end - start > SR // 10:
            yield start, end
        previous_end, k = end, k + 1
        reader.drop(k * hop - margin)


def _segment_spans(reader: _Reader, found: list):
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
