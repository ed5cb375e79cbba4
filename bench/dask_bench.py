"""Benchmark the execution layer on preprocess.py's work (feature extraction of RAVDESS clips, each
into a fresh cache): one process, a LocalCluster of N workers, and an N-process "remote" cluster on
loopback (`dask scheduler` + `dask worker` processes, as docs/scale.md starts one). Prints files/s,
the speed-up, that every mode gives the same features, the LocalCluster start-up cost with the
cross-over it implies, and the projected time for 100k clips per worker count.

    nice python bench/dask_bench.py [--clips 240] [--features egemaps] [--workers 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def clips(n: int) -> list[str]:
    """`n` RAVDESS clips spread evenly over the corpus (every actor and emotion)."""
    import pandas as pd
    data = ROOT.parent / "shared" / "data" / "ravdess"
    if not (data / "manifest.csv").is_file():
        sys.exit(f"RAVDESS not found at {data}")
    paths = [str(data / p) for p in pd.read_csv(data / "manifest.csv")["path"]]
    step = max(1, len(paths) // n)
    return paths[::step][:n]


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def remote_cluster(workers: int, folder: Path) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and `workers` single-threaded worker processes on 127.0.0.1, run from the project root."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    info = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT, "env": env}
    procs = [subprocess.Popen([bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)], **quiet)]
    procs += [subprocess.Popen([bin_dir / "dask", "worker", "--scheduler-file", str(info), "--nworkers", "1",
                                "--nthreads", "1", "--no-dashboard"], **quiet) for _ in range(workers)]
    while not info.is_file():
        time.sleep(0.2)
    time.sleep(0.5)
    address = json.loads(info.read_text())["address"]
    from distributed import Client
    with Client(address) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=240, help="RAVDESS clips (the corpus has 1440)")
    parser.add_argument("--features", default="egemaps", help="a feature set of ser.features")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import numpy as np
    from emovc.ser.features import build_feature_sets, extract_files
    sets = build_feature_sets([{"name": args.features}])
    paths = clips(args.clips)
    n, w = len(paths), args.workers
    print(f"{n} RAVDESS clips, {args.features} features, {w} workers, {os.cpu_count()} cores "
          f"(load average {os.getloadavg()[0]:.1f} at start)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = lambda mode, **kw: timed(lambda: extract_files(sets, paths, tmp / mode, progress=False, **kw)[0])
        t_single, single = run("single", workers=1)
        t_start, _ = timed(lambda: _start_and_close(w))
        t_local, local = run("local", workers=w)
        t_default, _ = run("default")
        address, procs = remote_cluster(w, tmp)
        try:
            t_remote, remote = run("remote", scheduler=address)
        finally:
            for p in procs[::-1]:
                p.terminate()
            for p in procs:
                p.wait(30)
    same = max(float(np.max(np.abs(a - b))) for a, l, r in zip(single, local, remote) for b in (l, r))
    print(f"{'mode':<44} {'seconds':>8} {'files/s':>8} {'speed-up':>9}")
    for mode, t in (("one process", t_single), (f"LocalCluster, {w} workers (incl. start-up)", t_local),
                    (f"remote cluster on loopback, {w} workers", t_remote),
                    ("default (no --workers: this process or a LocalCluster, as measured)", t_default)):
        print(f"{mode:<44} {t:8.1f} {n / t:8.2f} {t_single / t:8.2f}x")
    print(f"largest feature difference from the one-process run: {same:.3g}")
    per_file, per_file_local = t_single / n, max(t_local - t_start, 1e-9) / n
    gain = per_file - per_file_local
    print(f"LocalCluster start-up and shut-down: {t_start:.1f} s; a file costs {per_file:.3f} s in one process, "
          f"{per_file_local:.3f} s on the cluster after start-up, so the cluster pays off "
          + (f"from about {t_start / gain:.0f} files" if gain > 0 else "for no number of files at this load"))
    efficiency = t_single / t_remote / w
    print(f"projected for 100k clips from the measured {per_file:.3f} s a file, one core per worker: "
          f"with free cores (ideal), and at the {w}-worker efficiency measured here ({efficiency:.0%}):")
    for workers in (1, 2, 4, 8, 16, 32, 64):
        ideal = 100_000 * per_file / workers / 3600
        measured = ideal / (1.0 if workers == 1 else efficiency)
        print(f"  {workers:>3} workers: {ideal:7.2f} h ideal, {measured:7.2f} h at the measured efficiency")


def _start_and_close(workers: int) -> None:
    """A LocalCluster started, given one tiny task per worker, and closed."""
    from emovc.core.execute import Executor
    with Executor(workers=workers, min_items=1) as ex:
        ex.map(abs, range(workers))


if __name__ == "__main__":
    main()
