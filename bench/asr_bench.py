"""Speech-to-text benchmark: WER/CER by emotion and intensity, real-time factor, memory, load time.

    nice python bench/asr_bench.py                       # all 1440 RAVDESS clips, base and tiny.en
    nice python bench/asr_bench.py --limit 96 --models tiny.en
    nice python bench/asr_bench.py --models base --limit 160 --language auto   # detect.py's default

Each model runs in its own process so that peak memory (max RSS from getrusage) is its own.
Wall-clock figures depend on what else the CPU is doing, so CPU time is reported too:
'CPU RTF' is the process's CPU seconds per second of audio (all threads together).
Figures go to stdout and, as JSON, to results/asr/bench_<model>_beam<N>[_auto].json.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RAVDESS = ROOT.parent / "shared" / "data" / "ravdess" / "manifest.csv"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_model(model: str, manifest: Path, limit: int | None, by: list[str], threads: int,
                beam_size: int, language: str) -> dict:
    from emovc.asr.evaluate import format_table, read_manifest, score, summarise
    rows = read_manifest(manifest, limit)
    import faster_whisper  # noqa: F401  (import time is not model load time)
    wall, cpu = time.perf_counter(), cpu_seconds()
    from emovc.asr import load_asr
    asr_model = load_asr("whisper", model, language, threads=threads, beam_size=beam_size)
    load = {"load_s": time.perf_counter() - wall, "load_cpu_s": cpu_seconds() - cpu}
    wall, cpu = time.perf_counter(), cpu_seconds()
    results = []
    for start in range(0, len(rows), 100):
        results += score(asr_model, rows[start:start + 100], progress=False)
        done = summarise(results)["all"]
        print(f"[{model}] {len(results)}/{len(rows)} files: WER {100 * done['wer']:.2f} %, "
              f"RTF {done['rtf']:.3f}", file=sys.stderr, flush=True)
    audio_s = sum(r.duration for r in results)
    summary = summarise(results, by)
    report = {"model": model, "manifest": str(manifest), "files": len(results), "audio_s": audio_s,
              **load, "rtf": (time.perf_counter() - wall) / audio_s,
              "cpu_rtf": (cpu_seconds() - cpu) / audio_s, "threads": threads, "beam_size": beam_size,
              "language": language,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "summary": summary,
              "errors": [{"path": r.path, "reference": r.reference, "hypothesis": r.hypothesis}
                         for r in results if r.word_errors]}
    print(f"== Whisper {model}: {len(results)} files, {audio_s / 60:.1f} min of audio, {threads} threads, "
          f"beam {beam_size}, language {language}")
    print(format_table(summary))
    print(f"RTF {report['rtf']:.3f} (wall), CPU RTF {report['cpu_rtf']:.3f}; model load {report['load_s']:.2f} s "
          f"(CPU {report['load_cpu_s']:.2f} s); peak memory {report['peak_rss_mb']:.0f} MB")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["base", "tiny.en"])
    parser.add_argument("--manifest", type=Path, default=RAVDESS)
    parser.add_argument("--limit", type=int, help="a fixed random sample of N clips (default: all)")
    parser.add_argument("--by", nargs="+", default=["emotion", "intensity"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam-size", type=int, default=5, help="1 = greedy decoding")
    parser.add_argument("--language", default="en", help="a code, or auto to detect it (detect.py's default)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "asr")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:   # one model, in this process
        report = bench_model(args.models[0], args.manifest, args.limit, args.by, args.threads, args.beam_size,
                             args.language)
        args.out.mkdir(parents=True, exist_ok=True)
        auto = "_auto" if args.language == "auto" else ""
        (args.out / f"bench_{args.models[0]}_beam{args.beam_size}{auto}.json").write_text(json.dumps(report, indent=1))
        return
    for model in args.models:
        command = [sys.executable, __file__, "--worker", "--models", model, "--manifest", str(args.manifest),
                   "--by", *args.by, "--threads", str(args.threads), "--beam-size", str(args.beam_size),
                   "--language", args.language, "--out", str(args.out)]
        if args.limit:
            command += ["--limit", str(args.limit)]
        subprocess.run(command, check=True, env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))


if __name__ == "__main__":
    main()
