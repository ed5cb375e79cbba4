"""One conversion: recognise the emotion, transcribe, speak the words again (or re-render the
input with `keep_voice`), check the result with the same models, publish `N.wav` + `N.json`.

The stages are the project's own: `ser.load_recognizer`, `asr.load_asr`, `tts.synthesize_stream`
/ `tts.render_emotion`. Each model loads once per `Converter`, on first use. The output is
made and written sentence by sentence (or window by window) and checked window by window, so
memory does not grow with the length of the speech.
"""
import csv
import io
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from core.audio import list_audio, load_audio, resample, save_audio
from core.config import MAX_MANIFEST_BYTES, read_text
from core.errors import AudioError, UserError
from core.labels import EMOTIONS, normalise_emotion, shown
from convert.config import DetectConfig
from convert.outputs import OutputSlot
from ser.recognizer import UNCERTAIN

ASR_SR = 16000


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
    plots: bool = False         # also write N.png: input and output side by side (convert/plots.py)

    def __post_init__(self):
        from tts import parse_intensity, voice_names
        if self.emotion.strip().lower() == "same":
            self.emotion = "same"
        else:
            try:
                self.emotion = normalise_emotion(self.emotion)
            except UserError:
                raise UserError(f"unknown emotion {self.emotion!r}; choose one of: "
                                f"{', '.join(EMOTIONS)}, same") from None
        if self.speaker.strip().lower() not in voice_names():
            raise UserError(f"unknown speaker {self.speaker!r}; choose one of: {', '.join(voice_names())}")
        self.speaker = self.speaker.strip().lower()
        if self.text is not None and not self.text.strip():
            raise UserError("--text is empty; give the words to speak, or leave --text out to use ASR")
        if self.text is not None and self.keep_voice:
            raise UserError("--keep-voice keeps the recording's own words, so --text cannot be spoken; "
                            "leave out one of them")
        parse_intensity(self.intensity)     # raises a UserError naming the valid forms

    def check_engine(self, engine: str | None) -> None:
        """A UserError now, before any model loads, when the voice has no speaker for `engine`
        (the language is checked once the transcript names it)."""
        if not self.keep_voice:
            from tts import resolve_engine
            resolve_engine(self.speaker, engine, language=None)


class Converter:
    """Holds the loaded models; `convert(path, request, folder)` makes one numbered output."""

    def __init__(self, config: DetectConfig, say: Callable[[str], None] = lambda message: None):
        self.config, self.say = config, say
        self.recognizer = self.asr = None

    def load(self, asr: bool = True) -> None:
        """Load the models not loaded yet; each loads once per Converter."""
        if self.recognizer is None:
            from ser import load_recognizer
            self.say(f"loading emotion recogniser ({self.config.ser.config})…")
            self.recognizer = load_recognizer(self.config.ser.config)
            if self.config.ser.uncertain_below is not None:
                self.recognizer.uncertain_below = self.config.ser.uncertain_below
        if self.config.text.enabled:
            from ser.text import load_text_model
            load_text_model(self.config.text.model)      # a few ms; an unknown name fails here
        if asr and self.asr is None:
            from asr import load_asr
            cfg = self.config.asr
            self.say(f"loading speech recogniser ({cfg.backend} {cfg.model})…")
            self.asr = load_asr(backend=cfg.backend, model=cfg.model, language=cfg.language)

    def convert(self, path: str | Path, request: Request, folder: str | Path) -> dict:
        """Convert one file and publish it as the next `N.wav` + `N.json` (+ `N.png`) in `folder`;
        the output is streamed straight into the reservation and checked from there."""
        job = self.start(path, request)
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

    def start(self, path: str | Path, request: Request) -> "_Job":
        """SER, ASR and the words' emotion of one input; the output as chunks still to be made."""
        clock = _Clock(self.say)
        wav, sr = load_audio(path, min_duration=self.config.min_duration_s)
        wav16 = resample(wav, sr, ASR_SR)
        clock.lap("read")
        self.load(asr=request.text is None or request.check)
        clock.lap("load_models")

        self.say("recognising the emotion…")
        detected = self.detect_emotion(_windows(wav16, ASR_SR, self.config.ser.window_s))
        clock.lap("ser")
        if request.keep_voice and detected is None:
            raise UserError(f"{path}: no speech found (silent or too quiet), so there is no voice to keep; "
                            f"record speech, or leave out --keep-voice and give the words with --text")
        duration, wav16 = len(wav) / sr, None
        if not request.keep_voice:
            wav = None                  # only keep-voice needs the input again; the rest reads the file
        if request.text is None:
            self.say("transcribing…")
        transcript = None if request.text is not None else self.transcribe(path, optional=request.keep_voice)
        clock.lap("asr")
        text, fused = self.read_words(transcript.text if transcript else "", detected)
        clock.lap("text")

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
                self.say(f"note: the input's emotion is {shown(detected.label, detected.probabilities)}; "
                         f"speaking as neutral")
        else:
            target = request.emotion
        language = transcript.language if transcript and transcript.language else self.text_language()
        chunks, out_sr = self.render(wav, sr, words, target, request, language)
        self.say(f"speaking as {target}…" if not request.keep_voice else f"re-rendering as {target}…")
        return _Job(path, request, clock, duration, sr, detected, transcript, text, fused, words, target,
                    chunks, out_sr)

    def finish(self, job: "_Job", out_path: Path) -> tuple[dict, bytes | None]:
        """Check the written output, draw it when asked: (the report, PNG bytes or None)."""
        job.clock.lap("tts")
        check = self.self_check(out_path, job.target, job.words) if job.request.check else None
        job.clock.lap("check")
        if job.request.plots:
            self.say("drawing the pictures…")
        png = self.picture(job.path, job.detected, out_path, check) if job.request.plots else None
        job.clock.lap("plots")
        return self.report(job, check), png

    def report(self, job: "_Job", check) -> dict:
        cfg, request, transcript = self.config, job.request, job.transcript
        return {
            "input": {"path": str(job.path), "duration_s": round(job.duration, 3), "sample_rate": job.in_sr},
            "detected_emotion": _shown(job.detected),
            "text_emotion": _shown(job.text),
            "fused_emotion": _shown(job.fused),
            "transcript": None if transcript is None else transcript.text,
            "language": None if transcript is None else transcript.language,
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
                       if transcript is not None or request.check else None,
                "text": {"model": cfg.text.model, "weight": cfg.text.weight} if job.text else None,
                "tts": "render_emotion" if request.keep_voice else _voice(request.speaker, cfg.tts.engine),
                "renderer": cfg.tts.renderer,
            },
            "check": check,
            "notes": _notes(request, job.detected),
            "timings_s": job.clock.finish(),
        }

    def picture(self, path, detected, out_path: Path, check) -> bytes:
        """PNG of the input and the output side by side (waveform, log-mel + F0, RMS, probabilities).
        Both are read back from their files: a picture needs the whole of each, the conversion not."""
        from ser import Prediction
        from convert.plots import Clip, render_clips
        wav, sr = load_audio(path)
        out, out_sr = load_audio(out_path)
        heard = check and check["probabilities"] and Prediction(check["predicted_label"], check["probabilities"])
        return render_clips([Clip(f"input: {detected.label if detected else 'no speech'}", wav, sr, detected),
                             Clip("output" + (f": heard as {heard.label}" if heard else ""), out, out_sr,
                                  heard or None)])

    def session_adapter(self):
        """A new `ser.adapt.SessionAdapter` for one live stream or recording; None with `ser.adapt` off."""
        if not self.config.ser.adapt:
            return None
        self.load(asr=False)
        return self.recognizer.session_adapter()

    def detect_emotion(self, audio: np.ndarray | Iterable[np.ndarray], adapter=None):
        """SER over a 16 kHz waveform, cut into windows at pauses (see `_windows`), or over an
        iterable of such windows; silent windows are skipped and the probabilities weighted by
        window length. With at least `ser.normalise_min_windows`
        windows of speech, the windows are standardised together first (per-recording
        normalisation, config `ser.normalise`); `adapter` classifies them as windows of its session
        instead. None when no window holds speech."""
        from ser import Prediction
        cfg, rec = self.config.ser, self.recognizer
        windows = _windows(audio, ASR_SR, cfg.window_s) if isinstance(audio, np.ndarray) else audio
        pieces, features = [], []
        for piece in windows:
            try:
                features.append(rec.features(piece, ASR_SR))
            except AudioError:
                continue                # silent, or a too-short tail
            pieces.append(len(piece))
        if not features:
            return None
        together = cfg.normalise == "recording" and len(features) >= cfg.normalise_min_windows
        predictions = rec.classify(features, normalise=together, adapter=adapter)
        weights = np.asarray(pieces, dtype=float) / sum(pieces)
        mean = sum(w * np.array([p.probabilities[l] for l in rec.labels]) for w, p in zip(weights, predictions))
        return Prediction.of(rec.labels, mean, rec.uncertain_below)

    def read_words(self, words: str, voice):
        """The emotion of the words and its fusion with the voice's; (None, None) when the config
        turns it off or there are no words (fused is None too without a voice prediction)."""
        if not self.config.text.enabled or not words.strip():
            return None, None
        from ser.text import fuse, text_emotion
        text = text_emotion(words, self.config.text.model)
        return text, None if voice is None else fuse(voice, text, self.config.text.weight,
                                                     self.recognizer.uncertain_below)

    def transcribe(self, audio: str | Path | np.ndarray, optional: bool = False):
        """ASR (a file is streamed in blocks); '' for no speech. With keep-voice the output does not
        need it, so a failure is noted."""
        from asr import NoSpeechWarning
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoSpeechWarning)    # an empty text says it already
                return self.asr.transcribe(audio)
        except UserError as e:
            if not optional:
                raise
            self.say(f"note: no transcript ({e})")
            return None

    def text_language(self) -> str:
        """The language of words given with --text: the configured ASR language, English when 'auto'."""
        return "en" if self.config.asr.language == "auto" else self.config.asr.language

    def render(self, wav, sr, words, target, request, language: str = "en") -> tuple[Iterator[np.ndarray], int]:
        """The output as chunks made on demand and its rate: `words` spoken in `language` by the
        requested voice, sentence by sentence, or the input re-rendered window by window."""
        if request.keep_voice:
            from tts import render_emotion
            return (render_emotion(w, sr, target, request.intensity, renderer=self.config.tts.renderer)
                    for w in _windows(wav, sr, self.config.window_s)), sr
        from tts import synthesize_stream
        return synthesize_stream(words, target, request.speaker, request.intensity, engine=self.config.tts.engine,
                                 language=language, renderer=self.config.tts.renderer)

    def self_check(self, out_path: Path, target, words) -> dict:
        """Run SER and ASR on the written output, window by window: is `target` recognised, how
        many words survived."""
        from asr.evaluate import wer
        self.say("checking the output…")
        predicted = self.detect_emotion(_file_windows(out_path, self.config.ser.window_s))
        heard = self.transcribe(out_path).text
        error = round(wer(words, heard), 3) if words.strip() else None
        problems = []
        if predicted is None:
            problems.append("no speech in the output to recognise")
        elif predicted.label != target:
            problems.append(f"target emotion '{target}' not recognised in the output "
                            f"(heard as {shown(predicted.label, predicted.probabilities)})")
        if error is not None and error > self.config.check.max_wer:
            problems.append(f"word error rate {error:.0%} > {self.config.check.max_wer:.0%}")
        return {"recognised": predicted is not None and predicted.label == target,
                "predicted_label": predicted and predicted.label,
                "target_probability": predicted and round(float(predicted.probabilities.get(target, 0.0)), 3),
                "probabilities": predicted and _rounded(predicted.probabilities),
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
    detected: object
    transcript: object
    text: object
    fused: object
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


def _windows(wav: np.ndarray, sr: int, max_s: float) -> list[np.ndarray]:
    """Split into pieces of at most `max_s`, each cut at the quietest 10 ms of its last fifth
    (never leaving a last piece shorter than a tenth of `max_s`)."""
    size, hop = int(max_s * sr), int(0.01 * sr)
    pieces, start = [], 0
    while len(wav) - start > size:
        low, high = start + size * 4 // 5, min(start + size, len(wav) - size // 10)
        tail = wav[low:high]
        energy = (tail[: len(tail) // hop * hop].reshape(-1, hop) ** 2).sum(axis=1)
        cut = low + int(np.argmin(energy)) * hop
        pieces.append(wav[start:cut])
        start = cut
    pieces.append(wav[start:])
    return pieces


def _file_windows(path: Path, max_s: float) -> Iterator[np.ndarray]:
    """`_windows` of the audio file at `path` at 16 kHz, read and resampled block by block."""
    import soundfile as sf
    import soxr
    with sf.SoundFile(path) as f:
        stream = soxr.ResampleStream(f.samplerate, ASR_SR, 1, dtype="float32", quality="HQ")
        held = np.zeros(0, np.float32)
        while True:
            block = f.read(int(10 * max_s * f.samplerate), dtype="float32")
            last = f.tell() >= f.frames
            pieces = _windows(np.concatenate([held, stream.resample_chunk(block, last=last)]), ASR_SR, max_s)
            if last:
                yield from pieces
                return
            held = pieces.pop()     # may run on into the next block
            yield from pieces


def _voice(name: str, engine: str | None) -> dict:
    from tts import VOICES
    voice = VOICES[name]
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
        notes.append(f"the input's emotion is {shown(detected.label, detected.probabilities)}"
                     + ("; target 'same' fell back to neutral"
                                                      if request.emotion == "same" else ""))
    return notes


def _shown(prediction) -> dict | None:
    return None if prediction is None else {
        "label": prediction.label, "probabilities": _rounded(prediction.probabilities)}


def _rounded(probabilities: dict[str, float]) -> dict[str, float]:
    return {label: round(float(p), 4) for label, p in probabilities.items()}
