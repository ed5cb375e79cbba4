"""python -m emovc.tts "TEXT" --emotion HAPPY --speaker youngwoman -o out.wav [--intensity strong] [--engine NAME]
[--language es]; without --language the language is guessed from the text (else English)."""
import sys

from emovc.core.cli import ArgumentParser, path_arg, run
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS


def main(argv: list[str] | None = None) -> int:
    from emovc.tts.engines import ENGINES
    from emovc.tts.voices import voice_names, with_voices
    parser = ArgumentParser(prog="python -m emovc.tts", description="Speak text with an emotion in one of the voices.")
    parser.add_argument("text", help="what to say (numbers, abbreviations and symbols are read as words)")
    parser.add_argument("-o", "--output", type=path_arg, required=True,
                        help="file to write: .wav, .flac, .ogg or .mp3 (never overwritten)")
    parser.add_argument("--emotion", default="neutral", help=f"one of {', '.join(EMOTIONS)} (any case, synonyms too)")
    parser.add_argument("--speaker", "--voice", dest="voice", default="youngwoman",
                        help=f"voice name: {', '.join(voice_names())}, or one from --voices")
    parser.add_argument("--intensity", default="normal", help="normal, strong, or a number from 0 (neutral) to 1")
    parser.add_argument("--renderer", default="profile", choices=["profile", "contour", "exemplar"],
                        help="profile: the emotion's global profile (default); contour: the emotion model "
                             "learned from real takes; exemplar: the real contours of the nearest training "
                             "takes (docs/tts.md)")
    parser.add_argument("--engine", help=f"use another engine for the voice: {', '.join(ENGINES.names())}")
    parser.add_argument("--language", help="language of the text (ISO 639-1: en, es, fr, it, pt, hi; "
                                           "default: guessed from the text, else en)")
    parser.add_argument("--voices", type=path_arg, help="extra voice table (YAML, same layout as emovc/tts/voices.yaml)")
    args = parser.parse_args(argv)
    if args.output.exists():
        raise UserError(f"{args.output} already exists; choose another -o or delete it first")
    from emovc.core.audio import check_writable, output_format, save_audio
    output_format(args.output)                  # the destination is checked before any synthesis
    check_writable(args.output.parent, where="-o")
    voices = with_voices(args.voices)
    args.language = _language(args.text, args.language)
    from emovc.tts import synthesize_stream
    chunks, sr = synthesize_stream(args.text, emotion=args.emotion, voice=args.voice,
                                   intensity=args.intensity, engine=args.engine, language=args.language,
                                   renderer=args.renderer, voices=voices)
    try:
        save_audio(args.output, chunks, sr, where="another -o")
    except FileExistsError:
        raise UserError(f"{args.output} appeared while synthesising; nothing was overwritten") from None
    import soundfile as sf
    print(f"wrote {args.output} ({sf.info(str(args.output)).duration:.2f} s, {sr} Hz)")
    return 0


def _language(text: str, given: str | None) -> str:
    """`given`, or the language guessed from `text` (else en); stderr says when they disagree."""
    from emovc.tts.language import NAMES, guess_language
    guessed = guess_language(text)
    if given is None:
        if guessed not in (None, "en"):
            print(f"note: the text looks {NAMES[guessed]}; speaking it as {guessed} (--language sets it)",
                  file=sys.stderr)
        return guessed or "en"
    if guessed is not None and guessed != given.strip().lower():
        print(f"warning: the text looks {NAMES[guessed]}, not {given}; it is spoken with the rules of {given} "
              f"(give --language {guessed}, or leave --language out)", file=sys.stderr)
    return given


def entry() -> None:
    """`emovc-tts` and `python -m emovc.tts`."""
    run(main)


if __name__ == "__main__":
    entry()
