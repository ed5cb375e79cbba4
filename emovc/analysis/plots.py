"""Pictures of audio and emotion, as PNG (matplotlib, Agg backend, imported only when drawing).

    plot_clips("1.png", [Clip("input", wav, sr, prediction), Clip("output", out, out_sr, checked)])
    plot_timeline(timeline, "talk.png")

A clip's column: waveform; log-mel spectrogram with the F0 contour (Praat) over it; RMS energy;
the emotion probabilities as bars. Several clips stand side by side (input vs output).
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emovc.analysis.timeline import owned_edges
from emovc.core.audio import ENVELOPE_S, atomic_path
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS, SILENCE

# one colour per emotion (colour-blind-safe Okabe-Ito set plus two greys); every plot also names them
COLOURS = {"neutral": "#999999", "calm": "#56B4E9", "happy": "#E69F00", "sad": "#0072B2",
           "angry": "#D55E00", "fearful": "#CC79A7", "disgust": "#009E73", "surprised": "#F0E442",
           SILENCE: "#DDDDDD"}

MAX_WORDS = 200         # timeline plots write at most this many row labels and ASR segments


@dataclass
class Clip:
    title: str
    wav: np.ndarray          # float mono
    sr: int
    prediction: object = None    # ser.Prediction, or None


def plot_clips(path: str | Path, clips: list[Clip]) -> Path:
    """Write `render_clips` to `path` (never overwriting it)."""
    return write_png(path, render_clips(clips))


def render_clips(clips: list[Clip]) -> bytes:
    """PNG: one column per clip (waveform, log-mel + F0, RMS, probabilities)."""
    plt = _pyplot()
    fig, axes = plt.subplots(4, len(clips), figsize=(6 * len(clips), 9), squeeze=False,
                             gridspec_kw={"height_ratios": [1, 2, 1, 1.4]})
    for column, clip in zip(axes.T, clips):
        _clip(column, clip)
    fig.tight_layout()
    return _png(fig)


def plot_timeline(timeline, path: str | Path) -> Path:
    """Write `render_timeline` to `path` (never overwriting it)."""
    return write_png(path, render_timeline(timeline))


def render_timeline(timeline) -> bytes:
    """PNG: waveform on top, the emotion probabilities over time as stacked areas, the words under it."""
    plt = _pyplot()
    frame = timeline.frame
    edges = owned_edges(frame)
    width = min(24.0, max(10.0, timeline.duration / 15))
    fig, (wave, probs, words) = plt.subplots(3, 1, figsize=(width, 7), sharex=True,
                                             gridspec_kw={"height_ratios": [1, 2.2, 1]})
    env = timeline.envelope
    if len(env):
        t = (np.arange(len(env)) + 0.5) * ENVELOPE_S
        wave.fill_between(t, env[:, 0], env[:, 1], color="#333333", linewidth=0)
    wave.set_ylabel("waveform")
    wave.set_title(f"{Path(timeline.file).name}: emotion over time "
                   f"({timeline.summary['changes_per_minute']:.1f} changes/min)")
    bottom = np.zeros(len(frame))
    for e in EMOTIONS:                                  # stacked areas, one step per row's own time
        top = bottom + np.nan_to_num(frame[e].to_numpy(float))
        probs.fill_between(edges, np.append(bottom, bottom[-1]), np.append(top, top[-1]), step="post",
                           color=COLOURS[e], label=e, linewidth=0)
        bottom = top
    probs.set_ylim(0, 1)
    probs.set_ylabel("probability")
    probs.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    if len(frame) <= MAX_WORDS:     # the label as a word too, not colour alone (while it stays legible)
        for a, b, label in zip(edges[:-1], edges[1:], frame["label"]):
            probs.text((a + b) / 2, 1.02, label, ha="center", va="bottom", fontsize=6, rotation=90)
    words.set_ylim(0, 3)
    words.set_yticks([])
    words.set_ylabel("words")
    for i, segment in enumerate(timeline.segments[:MAX_WORDS]):
        text = segment.text if len(segment.text) <= 40 else segment.text[:39] + "…"
        words.text(segment.start, 2.5 - i % 3, text, fontsize=7, va="center")
    words.set_xlabel("time (s)")
    words.set_xlim(0, max(timeline.duration, 1e-3))
    fig.tight_layout()
    return _png(fig)


def _clip(axes, clip: Clip) -> None:
    import librosa
    import librosa.display
    wave, spec, energy, bars = axes
    wav = np.asarray(clip.wav, dtype=np.float32)
    t = np.arange(len(wav)) / clip.sr
    wave.plot(t, wav, color="#333333", linewidth=0.5)
    wave.set_xlim(0, t[-1] if len(t) else 1)
    wave.set_title(clip.title)
    wave.set_ylabel("waveform")
    hop = max(1, clip.sr // 100)
    mel = librosa.feature.melspectrogram(y=wav, sr=clip.sr, n_fft=1024, hop_length=hop, n_mels=80)
    librosa.display.specshow(librosa.power_to_db(mel, ref=np.max), sr=clip.sr, hop_length=hop,
                             x_axis="time", y_axis="mel", ax=spec, cmap="magma")
    times, f0 = _f0(wav, clip.sr)
    spec.plot(times, f0, color="#00FFFF", linewidth=1.5, label="F0 (Praat)")
    spec.legend(loc="upper right", fontsize=8)
    spec.set_ylabel("log-mel (Hz)")
    spec.set_xlabel("")
    rms = librosa.feature.rms(y=wav, frame_length=1024, hop_length=hop)[0]
    energy.plot(np.arange(len(rms)) * hop / clip.sr, 20 * np.log10(rms + 1e-6), color="#0072B2")
    energy.set_xlim(wave.get_xlim())
    energy.set_ylabel("RMS (dB)")
    energy.set_xlabel("time (s)")
    if clip.prediction is None:
        bars.text(0.5, 0.5, "no emotion recognised", ha="center", va="center", transform=bars.transAxes)
        bars.set_axis_off()
        return
    probabilities = clip.prediction.probabilities
    labels = [e for e in EMOTIONS if e in probabilities] + [e for e in probabilities if e not in EMOTIONS]
    values = [probabilities[e] for e in labels]
    bars.barh(labels, values, color=[COLOURS.get(e, "#777777") for e in labels])
    bars.invert_yaxis()
    bars.set_xlim(0, 1)
    bars.set_xlabel(f"probability (label: {clip.prediction.label})")


def _f0(wav: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Praat's F0 contour, NaN where unvoiced."""
    import parselmouth
    pitch = parselmouth.Sound(np.asarray(wav, np.float64), sampling_frequency=sr).to_pitch()
    f0 = pitch.selected_array["frequency"]
    return pitch.xs(), np.where(f0 > 0, f0, np.nan)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> bytes:
    import io
    import matplotlib.pyplot as plt
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, dpi=100, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def write_png(path: str | Path, data: bytes, numbered: bool = False) -> Path:
    """Publish PNG bytes atomically; an existing file is never replaced: with `numbered` the
    next free `stem-2.png`, `stem-3.png`… is used, else it is an error."""
    path = Path(path)
    for n in range(1, 10000):
        candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        try:
            with atomic_path(candidate) as tmp:
                tmp.write_bytes(data)
            return candidate
        except FileExistsError:
            if not numbered:
                raise UserError(f"{path}: already exists; choose another name "
                                f"(outputs are never overwritten)") from None
    raise UserError(f"{path}: no free name left beside it; clear the folder")
