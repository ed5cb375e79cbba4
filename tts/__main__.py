"""python -m tts "TEXT" --emotion HAPPY --speaker youngwoman -o out.wav [--intensity strong] [--engine NAME]"""
import argparse
from pathlib import Path

from core.cli import run
from core.errors import UserError
from core.labels import EMOTIONS


def main(argv: list[str] | None = None) -> int:
    from tts.engines import ENGINES
    from tts.voices import add_voices, voice_names
    parser = argparse.ArgumentParser(prog="python -m tts", description="Speak text with an emotion in one of the voices.")
    parser.add_argument("text", help="what to say (numbers, abbreviations and symbols are read as words)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="WAV file to write (never overwritten)")
    parser.add_argument("--emotion", default="neutral", help=f"one of {', '.join(EMOTIONS)} (any case, synonyms too)")
    parser.add_argument("--speaker", "--voice", dest="voice", default="youngwoman",
                        help=f"voice name: {', '.join(voice_names())}, or one from --voices")
    parser.add_argument("--intensity", default="normal", help="normal, strong, or a number from 0 (neutral) to 1")
    parser.add_argument("--engine", help=f"use another engine for the voice: {', '.join(ENGINES.names())}")
    parser.add_argument("--language", default="en", help="language of the text (ISO 639-1: en, es, fr, it, pt, hi)")
    parser.add_argument("--voices", type=Path, help="extra voice table (YAML, same layout as tts/voices.yaml)")
    args = parser.parse_args(argv)
    if args.output.exists():
        raise UserError(f"{args.output} already exists; choose another -o or delete it first")
    if args.voices:
        add_voices(args.voices)
    from core.audio import save_audio
    from tts import synthesize
    wav, sr = synthesize(args.text, emotion=args.emotion, voice=args.voice, intensity=args.intensity,
                         engine=args.engine, language=args.language)
    try:
        save_audio(args.output, wav, sr)
    except FileExistsError:
        raise UserError(f"{args.output} appeared while synthesising; nothing was overwritten") from None
    print(f"wrote {args.output} ({len(wav) / sr:.2f} s, {sr} Hz)")
    return 0


if __name__ == "__main__":
    run(main)
