"""Optional backend: PaddleSpeech ASR, run in its own interpreter (see requirements-paddle.txt).

PaddleSpeech cannot share this environment (numpy 1, old librosa; TensorFlow before paddle
segfaults), so each `transcribe` writes its 16 kHz speech windows (at most 30 s each, so
PaddleSpeech neither prompts about the rate nor exits on long audio) to a temporary folder and
runs the code of `paddlespeech_worker.py` under the named interpreter, non-interactively (`force_yes`,
stdin closed). Give `config` and `checkpoint` to run offline; without them PaddleSpeech
downloads its pretrained model from its own servers on first use.
"""
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from emovc.core.config import ExistingPath
from emovc.core.errors import UserError
from emovc.asr.transcribe import BACKENDS, ASRModel, Segment
from emovc.asr.windows import Window
from emovc.core.audio import SR

WORKER = Path(__file__).with_name("paddlespeech_worker.py")
SETUP = ("create its environment: python3.10 -m venv paddle-env && paddle-env/bin/pip install -r "
         "emovc/asr/requirements-paddle.txt, then pass python=paddle-env/bin/python (CLI: --set options.python=...) "
         "or set ASR_PADDLE_PYTHON")
MODELS = {"en": "transformer_librispeech", "zh": "conformer_wenetspeech"}


@dataclass
class PaddleSpeechOptions:
    python: str = ""                        # interpreter with paddlespeech; default $ASR_PADDLE_PYTHON
    config: ExistingPath | None = None      # model config YAML; with `checkpoint`, runs offline
    checkpoint: ExistingPath | None = None  # model parameters (.pdparams)
    device: str = "cpu"
    timeout_s: float = 3600.0


@BACKENDS.register("paddlespeech")
class PaddleSpeechASR(ASRModel):
    """PaddleSpeech's pretrained ASR ('transformer_librispeech' for en, 'conformer_wenetspeech' for zh)."""
    Options = PaddleSpeechOptions

    def __init__(self, model: str | None = None, language: str = "en", **options):
        if language not in MODELS:
            raise UserError(f"PaddleSpeech language {language!r} is not available; choose one of: "
                            f"{', '.join(MODELS)}")
        super().__init__(model or MODELS[language], language, **options)
        self.python = self.options.python or os.environ.get("ASR_PADDLE_PYTHON", "")
        if not self.python:
            raise UserError(f"the PaddleSpeech backend needs its own Python interpreter; {SETUP}")
        if not (Path(self.python).is_file() and os.access(self.python, os.X_OK)):
            raise UserError(f"PaddleSpeech interpreter {self.python!r} not found or not executable; {SETUP}")
        probe = subprocess.run([self.python, "-c", "import importlib.util as u, sys; "
                                "sys.exit(u.find_spec('paddlespeech') is None)"],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        if probe.returncode:
            raise UserError(f"{self.python} has no paddlespeech package; {SETUP}")

    def recognise(self, windows: Iterable[Window], language: str | None) -> tuple[str, list[Segment]]:
        import soundfile as sf
        with tempfile.TemporaryDirectory(prefix="asr-paddle-") as tmp:
            spans, files = [], []
            for i, window in enumerate(windows):   # on disk, not in memory: long input stays bounded
                files.append(str(Path(tmp) / f"{i:06d}.wav"))
                sf.write(files[-1], window.audio, SR, subtype="PCM_16")
                spans.append((window.start, window.start + len(window.audio) / SR))
            if not files:
                return language, []
            job = {"files": files, "model": self.model, "lang": language, "sample_rate": SR,
                   "config": self.options.config and str(self.options.config),
                   "ckpt_path": self.options.checkpoint and str(self.options.checkpoint),
                   "device": self.options.device, "output": str(Path(tmp) / "texts.json")}
            (Path(tmp) / "job.json").write_text(json.dumps(job))
            try:
                # run as -c from the temporary folder, so that no module of ours shadows paddlespeech's
                done = subprocess.run([self.python, "-c", WORKER.read_text(encoding="utf-8"), "job.json"],
                                      cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                      timeout=self.options.timeout_s)
            except subprocess.TimeoutExpired:
                raise UserError(f"PaddleSpeech took over {self.options.timeout_s:g} s; "
                                f"raise the timeout_s option") from None
            if done.returncode or not Path(job["output"]).is_file():
                last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise UserError(f"PaddleSpeech failed ({last[0]}); check that {self.python} -c "
                                f"'import paddlespeech.cli.asr.infer' works")
            texts = json.loads(Path(job["output"]).read_text(encoding="utf-8"))
        return language, [Segment(round(s, 2), round(e, 2), t.strip()) for (s, e), t in zip(spans, texts)]
