"""What detect.py does with its parsed arguments: validate, convert each input, print."""
import json
import signal
import sys
import tempfile
from argparse import Namespace
from functools import partial

from convert.config import DetectConfig
from convert.outputs import check_writable
from convert.pipeline import Converter, Request, expand_inputs, publish
from core.cli import execution_overrides
from core.config import load_config
from core.errors import UserError
from core.execute import Executor, cached, check_scheduler, default_workers
from core.labels import shown
from tts import add_voices

THREADS_PER_CONVERSION = 4      # what the stages' models use (core.threads.cpu_threads' limit)


def detect(args: Namespace) -> int:
    """Run detect.py; returns the exit code (1 when some inputs of a batch failed; none converted
    is a UserError)."""
    signal.signal(signal.SIGTERM, _interrupt)      # `kill` cleans up like Ctrl-C does
    overrides = args.set + execution_overrides(args, "batch")
    config = load_config(args.config, DetectConfig, overrides)
    check_scheduler(config.batch.scheduler)
    if args.no_check:
        config.check.enabled = False
    if config.tts.voices:
        add_voices(config.tts.voices)
    request = Request(emotion=args.emotion, speaker=args.speaker, text=args.text, keep_voice=args.keep_voice,
                      intensity=config.tts.intensity if args.intensity is None else args.intensity,
                      check=config.check.enabled, plots=args.plots)
    request.check_engine(config.tts.engine)
    check_writable(args.output_dir)
    files, batch = expand_inputs(args.audio)
    say = None if args.quiet else _stderr       # progress goes to stderr
    if not batch:
        report = Converter(config, say=say or (lambda message: None)).convert(files[0], request, args.output_dir)
        _show(report, args)
        return 0
    return _batch(config, files, request, args, say)


def convert_one(config: DetectConfig, request: Request, say, folder: str | None,
                path) -> tuple[tuple | None, str | None]:
    """((audio, sr, report, png), None) for one input of a batch, or (None, why it failed); this
    runs on the batch's workers, each of which loads the models once. `audio` is the WAV file
    the output was streamed into, made in `folder` (one this process can read), or, with
    `folder` None (workers of a remote cluster), that file's bytes."""
    def converter():
        if config.tts.voices:
            add_voices(config.tts.voices)
        return Converter(config, say=say or (lambda message: None))
    try:
        audio, sr, report, png = cached(("converter", repr(config), say), converter).make(path, request, folder)
        if folder is None:
            try:
                audio = audio.read_bytes()
            finally:
                audio.unlink(missing_ok=True)
        return (audio, sr, report, png), None
    except UserError as e:
        return None, str(e)
    except Exception as e:  # a stage failing on one file must not stop the batch
        return None, f"internal error ({type(e).__name__}: {e})"


def _batch(config: DetectConfig, files: list, request: Request, args: Namespace, say) -> int:
    """Convert on `core.execute` (this process, a LocalCluster or a Dask cluster); outputs are
    published here in input order, so numbers are unique, gap-free and as in a one-process run."""
    from tqdm import tqdm
    reports, failed, arrived = [], [], {}

    def publish_in_order(i: int, result) -> None:
        arrived[i] = result
        while (n := len(reports) + len(failed)) in arrived:
            made, error = arrived.pop(n)
            if error is not None:
                failed.append((files[n], error))
                tqdm.write(f"skipped {files[n]}: {error}", file=sys.stderr)
                continue
            reports.append(publish(args.output_dir, *made))
            if args.quiet:
                print(reports[-1]["output"], flush=True)
            elif not args.json:
                tqdm.write(_one_line(reports[-1]))
                if warning := _warning(reports[-1]):
                    tqdm.write(warning, file=sys.stderr)

    workers = config.batch.workers or default_workers(THREADS_PER_CONVERSION)
    # outputs made on this machine wait in a private folder until their turn; one left over by an
    # error or Ctrl-C (made out of order, never published) goes with it
    with tempfile.TemporaryDirectory(prefix="detect-batch-") as made_here, \
            Executor(config.batch.scheduler, workers, min_items=2 * workers) as executor:
        folder = None if config.batch.scheduler else made_here
        executor.map(partial(convert_one, config, request, say, folder), files, on_result=publish_in_order,
                     progress=not args.quiet, desc="converting")
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


def _show(report: dict, args: Namespace) -> None:
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
        lines.append(f"detected emotion: {shown(**report['detected_emotion'])}")
    if report["transcript"] is not None:
        lines.append(f"transcript: \"{report['transcript']}\" ({report['language']})")
    for name, key in (("text emotion", "text_emotion"), ("fused (voice + text)", "fused_emotion")):
        if report.get(key):
            lines.append(f"{name}: {shown(**report[key])}")
    how = "kept the input voice" if report["mode"] == "keep-voice" else f"voice {report['speaker']}"
    lines.append(f"spoken as: {report['target_emotion']}, {how}")
    check = report["check"]
    if check:
        wer = "n/a" if check["wer"] is None else f"{check['wer']:.0%}"
        heard = ("no speech in the output" if check["predicted_label"] is None else
                 f"heard as {shown(check['predicted_label'], check['probabilities'])}, "
                 f"target {report['target_emotion']} {check['target_probability']:.0%}")
        lines.append(f"self-check: {heard}, WER {wer}")
    lines += [f"note: {note}" for note in report["notes"]]
    lines.append(f"output: {report['output']} (report: {report['output'][:-4]}.json"
                 + (f", pictures: {report['plots']})" if report.get("plots") else ")"))
    return "\n".join(lines)


def _one_line(report: dict) -> str:
    detected = report["detected_emotion"]
    found = shown(detected["label"], detected["probabilities"], 1) if detected else "no speech"
    return f"{report['input']['path']} -> {report['output']} (detected {found}, spoken {report['target_emotion']})"


def _warning(report: dict) -> str | None:
    check = report["check"]
    if check and check["warnings"]:
        return f"warning: {report['output']}: " + "; ".join(check["warnings"])
    return None


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
