"""Change the emotion of speech: recognise it, transcribe it, speak the words again.

    python detect.py samples/sample.wav HAPPY youngwoman
"""
import argparse
import json
import signal
import sys

from emovc.core.cli import ArgumentParser, add_config_options, add_execution_options, path_arg


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description="Recognise the emotion in a recording, transcribe it, and speak the words again "
                    "with another emotion and voice. Writes output/N.wav and output/N.json.")
    parser.add_argument("audio", metavar="AUDIO", type=path_arg,
                        help="a recording, a folder of recordings, or a manifest CSV with a 'path' column")
    parser.add_argument("emotion", metavar="EMOTION",
                        help="target emotion: neutral calm happy sad angry fearful disgust surprised, "
                             "or 'same' (the detected one); any case")
    parser.add_argument("speaker", metavar="SPEAKER",
                        help="voice: youngwoman youngman smallgirl middlemale (any case)")
    parser.add_argument("--text", help="speak this text instead of the transcript (skips ASR)")
    parser.add_argument("--keep-voice", action="store_true",
                        help="change the emotion of the recording itself (same voice and words); "
                             "SPEAKER is then ignored")
    parser.add_argument("--intensity", help="normal, strong, or 0..1 (default from the config)")
    parser.add_argument("--output-dir", type=path_arg, default="output", help="where N.wav and N.json go (default: output)")
    add_config_options(parser, "configs/detect.yaml", what="which model each stage uses", example="asr.model=tiny.en")
    add_execution_options(parser, workers="one per 4 cores, each loading the models; config key batch.workers")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the self-check (SER and ASR on the output)")
    parser.add_argument("--plots", action="store_true",
                        help="also write output/N.png: waveform, log-mel + F0, RMS and emotion "
                             "probabilities of the input and the output side by side")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print the report as JSON")
    shown.add_argument("--quiet", action="store_true", help="print only the output path")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Convert one input, or a batch; the exit code is 1 when some inputs of a batch failed (none
    converted is a UserError)."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)      # `kill` cleans up like Ctrl-C does
    from emovc.convert import Converter, DetectConfig, Request, expand_inputs   # the stages load only now
    from emovc.convert.outputs import check_writable
    from emovc.core.cli import execution_overrides
    from emovc.core.config import load_config
    from emovc.core.execute import check_scheduler
    config = load_config(args.config, DetectConfig, args.set + execution_overrides(args, "batch"))
    check_scheduler(config.batch.scheduler)
    if args.no_check:
        config.check.enabled = False
    say = None if args.quiet else _stderr       # progress goes to stderr
    converter = Converter(config, say=say or (lambda message: None))     # with the config's voices
    request = Request(emotion=args.emotion, speaker=args.speaker, text=args.text, keep_voice=args.keep_voice,
                      intensity=config.tts.intensity if args.intensity is None else args.intensity,
                      check=config.check.enabled, plots=args.plots)
    converter.check(request)
    check_writable(args.output_dir)
    files, batch = expand_inputs(args.audio)
    if not batch:
        _show(converter.convert(files[0], request, args.output_dir), args)
        return 0
    return _batch(config, files, request, args, say)


def _batch(config, files: list, request, args: argparse.Namespace, say) -> int:
    from tqdm import tqdm
    from emovc.convert.runner import convert_batch
    from emovc.core.errors import UserError

    def published(report: dict) -> None:
        if args.quiet:
            print(report["output"], flush=True)
        elif not args.json:
            tqdm.write(_one_line(report))
            if warning := _warning(report):
                tqdm.write(warning, file=sys.stderr)

    reports, failed = convert_batch(
        config, files, request, args.output_dir, say, published,
        lambda path, error: tqdm.write(f"skipped {path}: {error}", file=sys.stderr), progress=not args.quiet)
    if not reports:     # each was named as it failed; the error line names the first reason
        raise UserError(f"none of the {len(files)} inputs could be converted; the first: {failed[0][1]}")
    if args.json:
        print(json.dumps(reports, indent=2, ensure_ascii=False))
    if not args.quiet:
        print(f"converted {len(reports)} of {len(files)} files into {args.output_dir}"
              + (f"; {len(failed)} failed:" if failed else ""), file=sys.stderr)
        for path, message in failed:
            print(f"  {path}: {message}", file=sys.stderr)
    return 1 if failed else 0


def _show(report: dict, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    elif args.quiet:
        print(report["output"])
    else:
        print(_summary(report))
    warning = _warning(report)
    if warning and not args.quiet:
        print(warning, file=sys.stderr)


def _summary(report: dict) -> str:
    lines = []
    if report["detected_emotion"]:
        lines.append(f"detected emotion: {_said(report['detected_emotion'])}")
    if report["transcript"] is not None:
        lines.append(f"transcript: \"{report['transcript']}\" ({report['language']})")
    for name, key in (("text emotion", "text_emotion"), ("fused (voice + text)", "fused_emotion")):
        if report.get(key):
            lines.append(f"{name}: {_said(report[key])}")
    how = "kept the input voice" if report["mode"] == "keep-voice" else f"voice {report['speaker']}"
    lines.append(f"spoken as: {report['target_emotion']}, {how}")
    check = report["check"]
    if check:
        wer = "n/a" if check["wer"] is None else f"{check['wer']:.0%}"
        heard = ("no speech in the output" if check["predicted_label"] is None else
                 f"heard as {said(check['predicted_label'], check['probabilities'])}, "
                 f"target {report['target_emotion']} {check['target_probability']:.0%}")
        lines.append(f"self-check: {heard}, WER {wer}")
    lines += [f"note: {note}" for note in report["notes"]]
    lines.append(f"output: {report['output']} (report: {report['output'][:-4]}.json"
                 + (f", pictures: {report['plots']})" if report.get("plots") else ")"))
    return "\n".join(lines)


def _one_line(report: dict) -> str:
    detected = report["detected_emotion"]
    found = said(detected["label"], detected["probabilities"], 1) if detected else "no speech"
    return f"{report['input']['path']} -> {report['output']} (detected {found}, spoken {report['target_emotion']})"


def said(label: str, probabilities: dict, n: int = 3) -> str:
    from emovc.core.labels import shown       # yaml: imported only once there is something to show (fast --help)
    return shown(label, probabilities, n)


def _said(prediction: dict) -> str:
    return said(prediction["label"], prediction["probabilities"])


def _warning(report: dict) -> str | None:
    check = report["check"]
    if check and check["warnings"]:
        return f"warning: {report['output']}: " + "; ".join(check["warnings"])
    return None


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def entry() -> None:
    """`emovc-detect` and `python detect.py`."""
    parse_args()    # --help and usage errors answer before numpy and the stages are imported
    from emovc.core.cli import run
    run(main)
