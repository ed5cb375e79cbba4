"""One conversion: recognise the emotion, transcribe, speak the words again (or re-render the
input with `keep_voice`), check the result with the same models, publish `N.wav` + `N.json`.

The input is analysed by an `analysis.Analyzer` (the same answer detect.py, predict.py, the
timeline and the app give), or a given `Analysis` is used; the output comes from
`tts.synthesize_stream` / `tts.render_emotion`. Each model loads once per `Converter`, on first use. The output is
made and written sentence by sentence (or window by window) and checked window by window, so
memory does not grow with the length of the speech.
"""
import csv
import io
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from emovc.analysis import Analysis, Analyzer
from emovc.analysis.plots import Clip, render_clips
from emovc.asr.evaluate import wer
from emovc.convert.config import DetectConfig
from emovc.convert.outputs import OutputSlot
from emovc.core.audio import list_audio, load_audio, save_audio, split_at_pauses
from emovc.core.config import MAX_MANIFEST_BYTES, read_text
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS, UNCERTAIN, Prediction, normalise_emotion
from emovc.tts import parse_intensity, render_emotion, resolve_engine, synthesize_stream, with_voices
from emovc.tts.voices import Voice


@dataclass
class Request:
    """What to make of each input: target emotion (a label or 'same'), voice and options.

    Names are checked and normalised here (any case, emotion synonyms), before any model loads.
    """
    emotion: str
    speaker: str
    text: str | None = None
    keep_voice: bool = False
    intensity: str | float = "normal"
    check: bool = True
    plots: bool = False         # also write N.png: input and output side by side (analysis/plots.py)

    def __post_init__(self):
        if self.emotion.strip().lower() == "same":
            self.emotion = "same"
        else:
            try:
                self.emotion = normalise_emotion(self.emotion)
            except UserError:
                raise UserError(f"unknown emotion {self.emotion!r}; choose one of: "
                                f"{', '.join(EMOTIONS)}, same") from None
        self.speaker = self.speaker.strip().lower()
        if self.text is not None and not self.text.strip():
            raise UserError("--text is empty; give the words to speak, or leave --text out to use ASR")
        if self.text is not None and self.keep_voice:
            raise UserError("--keep-voice keeps the recording's own words, so --text cannot be spoken; "
                            "leave out one of them")
        parse_intensity(self.intensity)     # raises a UserError naming the valid forms



class Converter:
    """Holds the loaded models; `convert(path, request, folder)` makes one numbered output."""

    def __init__(self, config: DetectConfig, say: Callable[[str], None] = lambda message: None,
                 analyzer: Analyzer | None = None):
        self.config, self.say = config, say
        self.analyzer = analyzer or Analyzer(config, say)
        self.voices = with_voices(config.tts.voices)    # the shipped voices and the config's own

    def check(self, request: Request) -> None:
        """A UserError now, before any model loads, when the request's voice is not in this converter's
        table or has no speaker for the configured engine (the language is checked once the transcript
        names it)."""
        if request.speaker not in self.voices:
            raise UserError(f"unknown speaker {request.speaker!r}; choose one of: {', '.join(sorted(self.voices))}")
        if not request.keep_voice:
            resolve_engine(request.speaker, self.config.tts.engine, None, self.voices)

    def load(self, asr: bool = True) -> None:
        """Load the analysis models not loaded yet (the voices load as they are first used)."""
        self.analyzer.load(asr)

    def convert(self, path: str | Path, request: Request, folder: str | Path,
                analysis: Analysis | None = None) -> dict:
        """Convert one file and publish it as the next `N.wav` + `N.json` (+ `N.png`) in `folder`;
        the output is streamed straight into the reservation and checked from there. `analysis`:
        the file's, when made already (the app analyses an upload first)."""
        job = self.start(path, request, analysis)
        with OutputSlot(folder) as slot:
            out_path = slot.save_audio(job.chunks, job.sr)
            report, png = self.finish(job, out_path)
            return _publish(slot, report, png)

    def make(self, path: str | Path, request: Request,
             folder: str | Path | None = None) -> tuple[Path, int, dict, bytes | None]:
        """Convert one file without publishing it (what a batch's workers do): (a new WAV file in
        `folder` (default: the system's temporary folder) the output was streamed into, its rate,
        the report without its output path, the picture's PNG bytes when `request.plots`).
        `publish` moves the file into place; a caller that does not publish deletes it."""
        job = self.start(path, request)
        out_path = Path(folder or tempfile.gettempdir()) / f"detect-{uuid.uuid4().hex}.wav"
        try:
            save_audio(out_path, job.chunks, job.sr, where="another temporary folder (TMPDIR)")
            report, png = self.finish(job, out_path)
        except BaseException:
            out_path.unlink(missing_ok=True)
            raise
        return out_path, job.sr, report, png

    def start(self, path: str | Path, request: Request, analysis: Analysis | None = None) -> "_Job":
        """Analyse one input (unless `analysis` is given); the output as chunks still to be made."""
        self.check(request)
        clock = _Clock(self.say)
        wav, sr = load_audio(path, min_duration=self.config.min_duration_s)
        clock.lap("read")
        if analysis is None:
            analysis = self.analyzer.analyse(path, words=request.text is None, optional_words=request.keep_voice,
                                             lap=clock.lap)
        detected, transcript = analysis.emotion, analysis.transcript
        if request.keep_voice and detected is None:
            raise UserError(f"{path}: no speech found (silent or too quiet), so there is no voice to keep; "
                            f"record speech, or leave out --keep-voice and give the words with --text")
        duration = len(wav) / sr
        if not request.keep_voice:
            wav = None                  # only keep-voice needs the input again; the rest reads the file
        words = request.text if request.text is not None else (transcript.text if transcript else "")
        if not request.keep_voice and not words.strip():
            raise UserError(f"{path}: no speech found (silent, too quiet or no words); "
                            f"give the words with --text, or use --keep-voice")
        if request.emotion == "same":
            if detected is None:
                raise UserError(f"{path}: no speech to detect an emotion from; name the target emotion")
            target = detected.label
            if target == UNCERTAIN:
                target = "neutral"
                self.say(f"note: the input's emotion is {detected}; speaking as neutral")
        else:
            target = request.emotion
        language = transcript.language if transcript and transcript.language else self.analyzer.text_language()
        chunks, out_sr = self.render(wav, sr, words, target, request, language)
        self.say(f"speaking as {target}…" if not request.keep_voice else f"re-rendering as {target}…")
        return _Job(path, request, clock, duration, sr, analysis, words, target, chunks, out_sr)

    def finish(self, job: "_Job", out_path: Path) -> tuple[dict, bytes | None]:
        """Check the written output, draw it when asked: (the report, PNG bytes or None)."""
        job.clock.lap("tts")
        check = self.self_check(out_path, job.target, job.words) if job.request.check else None
        job.clock.lap("check")
        if job.request.plots:
            self.say("drawing the pictures…")
        png = self.picture(job.path, job.analysis.emotion, out_path, check) if job.request.plots else None
        job.clock.lap("plots")
        return self.report(job, check), png

    def report(self, job: "_Job", check) -> dict:
        cfg, request, analysis = self.config, job.request, job.analysis
        found = analysis.to_dict()
        del found["duration_s"]
        return {
            "input": {"path": str(job.path), "duration_s": round(job.duration, 3), "sample_rate": job.in_sr},
            **found,
            "spoken_text": job.words,
            "target_emotion": job.target,
            "speaker": request.speaker,
            "mode": "keep-voice" if request.keep_voice else "synthesis",
            "intensity": request.intensity,
            "output": None,
            "plots": None,
            "models": {
                "ser": str(cfg.ser.config),
                "asr": {"backend": cfg.asr.backend, "model": cfg.asr.model, "language": cfg.asr.language}
                       if analysis.transcript is not None or request.check else None,
                "text": {"model": cfg.text.model, "weight": cfg.text.weight} if analysis.text else None,
                "tts": "render_emotion" if request.keep_voice else _voice(self.voices[request.speaker], request.speaker, cfg.tts.engine),
                "renderer": cfg.tts.keep_voice_renderer if request.keep_voice else cfg.tts.renderer,
            },
            "check": check,
            "notes": _notes(request, analysis.emotion),
            "timings_s": job.clock.finish(),
        }

    def picture(self, path, detected, out_path: Path, check) -> bytes:
        """PNG of the input and the output side by side (waveform, log-mel + F0, RMS, probabilities).
        Both are read back from their files: a picture needs the whole of each, the conversion not."""
        wav, sr = load_audio(path)
        out, out_sr = load_audio(out_path)
        heard = check and check["probabilities"] and Prediction(check["predicted_label"], check["probabilities"])
        return render_clips([Clip(f"input: {detected.label if detected else 'no speech'}", wav, sr, detected),
                             Clip("output" + (f": heard as {heard.label}" if heard else ""), out, out_sr,
                                  heard or None)])

    def render(self, wav, sr, words, target, request, language: str = "en") -> tuple[Iterator[np.ndarray], int]:
        """The output as chunks made on demand and its rate: `words` spoken in `language` by the
        requested voice, sentence by sentence, or the input re-rendered window by window."""
        if request.keep_voice:
            return (render_emotion(w, sr, target, request.intensity, renderer=self.config.tts.keep_voice_renderer)
                    for w in split_at_pauses(wav, sr, self.config.window_s)), sr
        return synthesize_stream(words, target, request.speaker, request.intensity, engine=self.config.tts.engine,
                                 language=language, renderer=self.config.tts.renderer, voices=self.voices)

    def self_check(self, out_path: Path, target, words) -> dict:
        """Run SER and ASR on the written output, window by window: is `target` recognised, how
        many words survived."""
        self.say("checking the output…")
        self.analyzer.load(asr=True)
        predicted = self.analyzer.emotion(out_path)
        heard = self.analyzer.transcribe(out_path).text
        error = round(wer(words, heard), 3) if words.strip() else None
        problems = []
        if predicted is None:
            problems.append("no speech in the output to recognise")
        elif predicted.label != target:
            problems.append(f"target emotion '{target}' not recognised in the output (heard as {predicted})")
        if error is not None and error > self.config.check.max_wer:
            problems.append(f"word error rate {error:.0%} > {self.config.check.max_wer:.0%}")
        return {"recognised": predicted is not None and predicted.label == target,
                "predicted_label": predicted and predicted.label,
                "target_probability": predicted and round(float(predicted.probabilities.get(target, 0.0)), 3),
                "probabilities": predicted and predicted.to_dict()["probabilities"],
                "transcript": heard, "wer": error, "warnings": problems}


def publish(folder: str | Path, audio: str | Path | bytes | np.ndarray, sr: int, report: dict,
            png: bytes | None = None) -> dict:
    """Publish a conversion as the next free `N.wav` + `N.json` (+ `N.png`) in `folder`; the
    report gets their paths. `audio`: the WAV file `Converter.make` wrote (moved into place),
    that file's bytes (from a remote worker), or the waveform at `sr`."""
    with OutputSlot(folder) as slot:
        if isinstance(audio, np.ndarray):
            slot.save_audio(audio, sr)
        elif isinstance(audio, bytes):
            slot.write_audio_bytes(audio)
        else:
            slot.take_audio(Path(audio))
        return _publish(slot, report, png)


def _publish(slot: OutputSlot, report: dict, png: bytes | None) -> dict:
    report["output"] = str(slot.wav_path)
    report["plots"] = str(slot.png_path) if png else None
    slot.publish(report, png)
    return report


@dataclass
class _Job:
    """One input between `Converter.start` and `Converter.finish`."""
    path: str | Path
    request: Request
    clock: "_Clock"
    duration: float
    in_sr: int
    analysis: Analysis
    words: str
    target: str
    chunks: Iterator[np.ndarray]
    sr: int


def expand_inputs(audio: str | Path) -> tuple[list[Path], bool]:
    """AUDIO as given on the command line -> (files, is_batch): a file, a folder or a manifest CSV."""
    audio = Path(audio)
    if audio.is_dir():
        return list_audio([audio]), True
    if audio.suffix.lower() == ".csv" and audio.is_file():
        rows = list(csv.DictReader(io.StringIO(read_text(audio, "manifest", MAX_MANIFEST_BYTES), newline="")))
        if not rows or "path" not in rows[0]:
            raise UserError(f"{audio}: a manifest needs a 'path' column and at least one row")
        return [audio.parent / row["path"] for row in rows], True
    return list_audio([audio]), False


class _Clock:
    """The stages' times for the report; each also said as its stage ends (unless under 0.1 s)."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.start = self.last = time.perf_counter()
        self.times: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.times[stage] = round(now - self.last, 3)
        self.last = now
        if self.times[stage] >= 0.1:
            self.say(f"{stage} took {self.times[stage]:.1f} s")

    def finish(self) -> dict[str, float]:
        return {**self.times, "total": round(time.perf_counter() - self.start, 3)}


def _voice(voice: Voice, name: str, engine: str | None) -> dict:
    if engine and engine.lower() != voice.engine:
        return {"voice": name, "engine": engine.lower(), "speaker": voice.engines.get(engine.lower())}
    return {"voice": name, "engine": voice.engine, "speaker": voice.speaker, "model": voice.model}


def _notes(request: Request, detected) -> list[str]:
    notes = []
    if request.keep_voice:
        notes.append(f"keep-voice: the input voice is kept; speaker '{request.speaker}' is not applied")
    if detected is None:
        notes.append("no speech found in the input, so no emotion was detected")
    elif detected.label == UNCERTAIN:
        notes.append(f"the input's emotion is {detected}"
                     + ("; target 'same' fell back to neutral"
                                                      if request.emotion == "same" else ""))
    return notes
