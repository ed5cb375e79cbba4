"""Benchmark detect.py: --help time, a cold run, warm per-file time in batch, peak memory,
each stage's share.

    nice python bench/detect_bench.py [--clip samples/sample.wav] [--files 6] [--speaker NAME] [--set KEY=VALUE]

Targets (issue 5, 4 s clip, 2 cores): --help <= 0.5 s, cold run <= 8 s, warm per file
<= 1.5 s without the self-check, peak memory <= 1.5 GB.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STAGES = ("read", "load_models", "ser", "asr", "tts", "check")


def timed_process(args: list[str], detect: Path = ROOT / "detect.py") -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of `python detect.py ARGS` in a new process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(detect), *args], cwd=detect.parent,
                                   stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)     # this child's own resource usage
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if process.returncode:
            sys.exit(f"detect.py {' '.join(args)} failed:\n{err.read()}")
        return wall, usage.ru_maxrss / 1024, out.read()


def shares(timings: list[dict]) -> str:
    total = {s: sum(t.get(s, 0.0) for t in timings) for s in STAGES}
    whole = sum(total.values()) or 1.0
    return ", ".join(f"{s} {v / len(timings):.2f} s ({v / whole:.0%})" for s, v in total.items() if v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default=str(ROOT / "samples" / "sample.wav"))
    parser.add_argument("--files", type=int, default=6, help="batch size for the warm timing (first is warm-up)")
    parser.add_argument("--emotion", default="happy")
    parser.add_argument("--speaker", default="youngwoman")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a detect.yaml override for every run, e.g. --set asr.model=tiny.en (repeatable)")
    args = parser.parse_args()
    import soundfile as sf
    print(f"clip: {args.clip} ({sf.info(args.clip).duration:.2f} s); cores: {os.cpu_count()}")

    helps = [timed_process(["--help"])[0] for _ in range(5)]
    print(f"--help: median {statistics.median(helps):.3f} s over 5 runs")

    with tempfile.TemporaryDirectory() as out:
        common = [args.clip, args.emotion, args.speaker, "--output-dir", out, "--json",
                  *(f"--set={item}" for item in args.set)]
        wall, peak, stdout = timed_process(common)
        report = json.loads(stdout)
        print(f"cold run with self-check: {wall:.2f} s wall, peak RSS {peak:.0f} MB; stages: "
              f"{shares([report['timings_s']])}")
        wall, peak, stdout = timed_process(common + ["--no-check"])
        report = json.loads(stdout)
        print(f"cold run without self-check: {wall:.2f} s wall, peak RSS {peak:.0f} MB; stages: "
              f"{shares([report['timings_s']])}")

        from emovc.core.config import load_config
        from emovc.convert import Converter, DetectConfig, Request
        converter = Converter(load_config(ROOT / "configs" / "detect.yaml", DetectConfig, args.set))
        for check in (False, True):
            request = Request(args.emotion, args.speaker, check=check)
            timings = []
            for _ in range(args.files):
                start = time.perf_counter()
                report = converter.convert(args.clip, request, out)
                timings.append({**report["timings_s"], "wall": time.perf_counter() - start})
            warm = timings[1:]
            print(f"warm per file in batch, self-check {'on' if check else 'off'}: "
                  f"mean {statistics.mean(t['wall'] for t in warm):.2f} s over {len(warm)} files; "
                  f"stages: {shares(warm)}")
        import resource
        print(f"peak RSS of the batch process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
