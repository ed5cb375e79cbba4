"""Transcribe audio files: python -m emovc.asr AUDIO... [--backend NAME] [--model NAME|PATH] [--language en|auto|..] [--json]

Plain output is one 'path<TAB>text' line per file; --json prints a list of objects with path,
text, language, duration and segments (start, end, text). Backend settings come from a YAML
--config (keys: backend, model, language, options) and --set overrides, e.g.
--set options.beam_size=1 or, for PaddleSpeech, --set options.python=paddle-env/bin/python.
"""
import argparse
import json
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

from emovc.core.audio import list_audio
from emovc.core.cli import ArgumentParser, path_arg
from emovc.core.config import apply_override, from_dict, load_config


@dataclass
class ASRConfig:
    backend: str = "whisper"
    model: str | None = None            # backend default when empty (Whisper: base)
    language: str = "auto"              # detect, or a code such as en
    options: dict[str, Any] = field(default_factory=dict)   # backend settings, checked by the backend


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from emovc.asr import BACKENDS
    parser = ArgumentParser(prog="python -m emovc.asr", description=__doc__.split("\n\n")[0].split(": ", 1)[0],
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("audio", nargs="+", type=path_arg, help="audio files or folders")
    parser.add_argument("--backend", help=f"one of: {', '.join(BACKENDS.names())} (default whisper)")
    parser.add_argument("--model", help="Whisper: base (default), tiny.en, a faster-whisper folder, "
                                        "or a model in your Hugging Face cache")
    parser.add_argument("--language", help="auto (default: detect it) or a language code such as en")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of text lines")
    parser.add_argument("--config", type=path_arg, help="YAML with backend, model, language, options")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.config:
        cfg = load_config(args.config, ASRConfig, args.set)
    else:
        data: dict = {}
        for item in args.set:
            apply_override(data, item)
        cfg = from_dict(ASRConfig, data, "--set")
    for key in ("backend", "model", "language"):
        if getattr(args, key) is not None:
            setattr(cfg, key, getattr(args, key))
    files = list_audio(args.audio)
    from emovc.asr import load_asr
    asr_model = load_asr(cfg.backend, cfg.model, cfg.language, **cfg.options)
    results = []
    for path in files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            transcript = asr_model.transcribe(path)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        results.append({"path": str(path), **transcript.to_dict()})
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        for r in results:
            print(f"{r['path']}\t{r['text']}")
    return 0


def entry() -> None:
    """`emovc-asr` and `python -m emovc.asr`."""
    from emovc.core.cli import run
    run(main)


if __name__ == "__main__":
    entry()
