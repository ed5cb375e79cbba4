"""emovc/core/execute.py on a real Dask LocalCluster (2 worker processes) with real RAVDESS clips and
eGeMAPS features: same results as one process, a killed worker, concurrent cache writers, Ctrl-C."""
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from emovc.core import execute
from emovc.core.errors import UserError
from emovc.core.audio import sweep_temporary
from emovc.core.execute import Executor, cached, run_tasks
from emovc.ser.features import ORIGINAL, _extract_one, build_feature_sets, extract_files

ROOT = Path(__file__).resolve().parents[1]


def _not_comm_closed(record: logging.LogRecord) -> bool:
    """False for Dask's tracebacks of a connection closed by a worker that died, as tests here make them."""
    error = record.exc_info[1] if record.exc_info else None
    return type(error).__name__ != "CommClosedError" and "CommClosedError" not in record.getMessage()


@pytest.fixture(scope="module")
def cluster():
    """A 2-worker LocalCluster reached by its tcp:// address, as a remote cluster would be; the
    expected CommClosedError tracebacks of its scheduler (in this process) are filtered out."""
    from distributed import LocalCluster
    handlers = logging.getLogger("distributed").handlers
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        for handler in handlers:
            handler.addFilter(_not_comm_closed)
        yield c.scheduler_address
    for handler in handlers:
        handler.removeFilter(_not_comm_closed)


def _idle(address: str, timeout_s: float = 60.0) -> None:
    """Wait until no worker runs a task: under load the scheduler may give up on a worker (a lost
    connection) and run its task again elsewhere while the first copy still runs or is killed."""
    from distributed import Client
    with Client(address) as client:
        deadline = time.monotonic() + timeout_s
        while any(client.run(lambda dask_worker: len(dask_worker.state.executing)).values()):
            assert time.monotonic() < deadline, "a worker is still running a task"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def clips(shared_data):
    return sorted((shared_data / "ravdess" / "Actor_02").glob("*.flac"))[:6]


@pytest.fixture(scope="module")
def egemaps():
    return build_feature_sets([{"name": "egemaps"}])


def test_cluster_gives_the_single_process_features(cluster, clips, egemaps, tmp_path):
    single, _ = extract_files(egemaps, clips, cache_dir=tmp_path / "one", workers=1, progress=False)
    spread, failures = extract_files(egemaps, clips, cache_dir=tmp_path / "many", progress=False, scheduler=cluster)
    assert not failures and len(spread) == len(clips)
    for a, b in zip(single, spread):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert len(list((tmp_path / "many").rglob("*.npy"))) == len(clips)


def test_a_local_cluster_starts_for_enough_items_and_keeps_item_order():
    seen = []
    out = run_tasks(abs, range(-6, 0), workers=2, min_items=2, on_result=lambda i, r: seen.append(i))
    assert out == [6, 5, 4, 3, 2, 1] and sorted(seen) == list(range(6))


def _slow_square(x: int) -> int:
    time.sleep(0.3)
    return x * x


def test_by_default_cheap_items_stay_here_and_costly_ones_move_to_a_cluster(monkeypatch):
    monkeypatch.setattr(execute, "default_workers", lambda: 2)
    monkeypatch.setattr(execute, "idle_cores", lambda: 2.0)    # as on an idle 2-core machine
    monkeypatch.setattr(execute, "PROBE_S", 0.5)
    with Executor() as ex:
        assert ex.map(abs, range(-200, 0)) == list(range(200, 0, -1)) and ex.client is None
    monkeypatch.setattr(execute, "CLUSTER_START_S", 0.5)      # as if start-up were cheap
    with Executor() as ex:
        assert ex.map(_slow_square, range(12)) == [x * x for x in range(12)] and ex.client is not None
    monkeypatch.setattr(execute, "idle_cores", lambda: 1.0)    # the cores are busy: a cluster cannot help
    with Executor() as ex:
        assert ex.map(_slow_square, range(12)) == [x * x for x in range(12)] and ex.client is None


def _dies_once(marker_dir: str, victim: str, fs, cache_dir, path: str):
    """eGeMAPS of `path`, but the worker process running `victim` the first time dies (SIGKILL-like)."""
    marker = Path(marker_dir) / "died"
    if Path(path).name == victim and not marker.exists():
        marker.touch()
        os._exit(1)
    return _extract_one(fs, cache_dir, ORIGINAL, path)


def test_a_killed_worker_is_retried_without_losing_or_duplicating(cluster, clips, egemaps, tmp_path):
    reference, _ = extract_files(egemaps, clips, cache_dir=None, workers=1, progress=False)
    task = partial(_dies_once, str(tmp_path), clips[2].name, egemaps[0], tmp_path / "cache")
    with Executor(cluster) as ex:
        results = ex.map(task, [str(c) for c in clips])
    assert (tmp_path / "died").exists()                       # the worker did die once
    _idle(cluster)
    for (value, error), ref in zip(results, reference):
        assert error is None
        np.testing.assert_allclose(value, ref, rtol=1e-6)
    entries = list((tmp_path / "cache").rglob("*"))
    assert len([e for e in entries if e.suffix == ".npy"]) == len(clips)
    assert not [e for e in entries if e.name.endswith(".tmp")]


def test_concurrent_writers_of_one_cache_entry_leave_one_good_file(cluster, clips, egemaps, tmp_path):
    paths = [str(clips[0])] * 8 + [str(clips[1])] * 8          # 2 processes write the same 2 entries
    with Executor(cluster) as ex:
        results = ex.map(partial(_extract_one, egemaps[0], tmp_path, ORIGINAL), paths)
    _idle(cluster)
    entries = sorted(e for e in tmp_path.rglob("*.npy") if not e.name.startswith("."))
    for entry in entries:
        sweep_temporary(entry)         # what the next writer does: a killed copy's file goes
    files = [e for e in tmp_path.rglob("*") if e.is_file()]
    assert len(entries) == 2 and sorted(files) == entries
    assert any(np.array_equal(np.load(f), results[0][0]) for f in files)
    again, _ = extract_files(egemaps, clips[:2], cache_dir=tmp_path, workers=1, progress=False)
    np.testing.assert_array_equal(again[1], results[8][0])


def test_truncated_cache_entry_is_recomputed(clips, egemaps, tmp_path, caplog):
    (first,), _ = extract_files(egemaps, clips[:1], cache_dir=tmp_path, workers=1, progress=False)
    (entry,) = tmp_path.rglob("*.npy")
    entry.write_bytes(entry.read_bytes()[:-40])               # a writer cut off mid-file
    (again,), _ = extract_files(egemaps, clips[:1], cache_dir=tmp_path, workers=1, progress=False)
    assert "corrupt cache entry" in caplog.text
    np.testing.assert_array_equal(np.load(entry), first)
    np.testing.assert_array_equal(again, first)


def test_models_load_once_per_process():
    calls = []
    for _ in range(3):
        assert cached(("test", 1), lambda: calls.append(1) or object()) is cached(("test", 1), object)
    assert calls == [1]


def test_bad_and_unreachable_schedulers_are_one_line_errors(monkeypatch):
    with pytest.raises(UserError, match="not a Dask address; give tcp://HOST:PORT"):
        Executor("localhost:8786")
    monkeypatch.setattr(execute, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(UserError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_tasks(abs, [1], scheduler="tcp://127.0.0.1:9")


def test_ctrl_c_stops_the_cluster_work_cleanly(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        from emovc.core.cli import run
        from emovc.core.execute import run_tasks
        def main(argv):
            run_tasks(time.sleep, [0.5] * 400, workers=2, min_items=2,
                      on_result=lambda i, r: print("running", flush=True))
        if __name__ == "__main__":
            run(main)
    """)
    (tmp_path / "job.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    job = subprocess.Popen([sys.executable, str(tmp_path / "job.py")], cwd=tmp_path, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    assert job.stdout.readline() == "running\n"
    os.killpg(job.pid, signal.SIGINT)                         # what a terminal's Ctrl-C does
    _, err = job.communicate(timeout=60)
    assert job.returncode == 130 and err.strip().splitlines() == ["error: interrupted; nothing partial was written"]
    for _ in range(20):                                       # no worker process is left running
        left = subprocess.run(["ps", "-o", "stat=", "-g", str(job.pid)], capture_output=True, text=True).stdout
        if not [s for s in left.split() if not s.startswith("Z")]:
            break
        time.sleep(0.5)
    assert not [s for s in left.split() if not s.startswith("Z")], left
