"""The one execution layer for work over many files: this process, a Dask LocalCluster, or an
existing Dask cluster (`--scheduler tcp://HOST:8786`).

    with Executor(scheduler=None, workers=2) as ex:
        results = ex.map(fn, items)          # fn(item) for each item, in item order

With no scheduler and no worker count asked for, items start in this process; the rest move to
a LocalCluster (one worker per core) only when their measured cost and the idle cores say it
would finish sooner.
`fn` must be a module-level function (or a `functools.partial` of one): workers import it by
name, so remote workers run from the project root with it on PYTHONPATH. Models are loaded once
per worker process through `cached(key, factory)`. A worker that dies is replaced and its task
run again (Dask's allowed-failures); Ctrl-C cancels what is left and closes the cluster.
Results come back to this process, so whatever a task returns is published here, once.
"""
import logging
import os
import re
import signal
import statistics
import threading
import time
from typing import Any, Callable, Hashable, Iterable

from emovc.core.config import excerpt
from emovc.core.errors import UserError
from emovc.core.threads import cpu_threads

MIN_CLUSTER_ITEMS = 8       # fewer items always run in this process
CLUSTER_START_S = 10.0      # a LocalCluster's start-up and shut-down: bench/dask_bench.py measured
                            # 9-18 s with 2 workers on 2 busy cores
PROBE_S = 2.0               # how long items run here before the cost per item is judged
CONNECT_TIMEOUT = "10s"
_ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+:\d+$")
_CACHE: dict = {}
_LOCK = threading.RLock()          # a factory may itself use `cached`


def cached(key: Hashable, factory: Callable[[], Any]) -> Any:
    """`factory()` once per process (so once per Dask worker) for each key; then the same object."""
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = factory()
        return _CACHE[key]


def default_workers(threads_per_task: int = 1) -> int:
    """Worker processes that fit this machine's cores when each task uses `threads_per_task`."""
    return max(1, cpu_threads(limit=1024) // threads_per_task)


def idle_cores() -> float:
    """Cores not busy with other work: this machine's cores less the load average besides this
    process (at least 1), the most a LocalCluster here can speed a job up by."""
    return max(1.0, cpu_threads(limit=1024) - max(os.getloadavg()[0] - 1.0, 0.0))


def check_scheduler(address: str | None) -> str | None:
    """A Dask scheduler address as given by --scheduler or a config key, checked."""
    if address is not None and not _ADDRESS.match(address):
        raise UserError(f"scheduler {excerpt(address)} is not a Dask address; give tcp://HOST:PORT, e.g. "
                        f"tcp://10.0.0.5:8786 (start one with: dask scheduler)")
    return address


class Executor:
    """Runs `map` calls in this process or on Dask; a LocalCluster starts on first need and
    closes with the context. `scheduler`: None (this machine) or 'tcp://HOST:PORT'."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 min_items: int = MIN_CLUSTER_ITEMS):
        self.scheduler = check_scheduler(scheduler)
        if workers is not None and workers < 1:
            raise UserError(f"--workers {workers}: give 1 or more worker processes (1 = this process only)")
        self.workers, self.asked = workers or default_workers(), workers is not None
        self.min_items = min_items
        self.client = self.cluster = None

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def local(self, n: int, threaded: bool = False) -> bool:
        """Whether all `n` items run in this process: no scheduler, and few items, one worker, or
        a `threaded` task (one that uses the cores itself) with no worker count asked for."""
        return self.scheduler is None and (n < self.min_items or self.workers <= 1 or threaded and not self.asked)

    def map(self, fn: Callable, items: Iterable, on_result: Callable[[int, Any], None] | None = None,
            threaded: bool = False, progress: bool = False, desc: str = "") -> list:
        """`fn(item)` for every item, results in item order; `on_result(index, result)` is called
        here as each result arrives (in completion order when on a cluster)."""
        from tqdm import tqdm
        items = list(items)
        results: list = [None] * len(items)
        bar = tqdm(total=len(items), desc=desc, unit="file", disable=not progress, leave=False)

        def take(i: int, result: Any) -> None:
            results[i] = result
            bar.update()
            if on_result is not None:
                on_result(i, result)
        try:
            done = 0 if self.scheduler else self._run_here(fn, items, take, threaded)
            if done < len(items):
                stream = self._submit(fn, items[done:])
                try:
                    for i, result in stream:
                        take(done + i, result)
                finally:
                    stream.close()      # cancels what is left on the cluster, now, not at garbage collection
        finally:
            bar.close()
        return results

    def _run_here(self, fn: Callable, items: list, take: Callable, threaded: bool) -> int:
        """Run items in this process and return how many: all when `local`, none when a worker
        count was asked for; otherwise items run here for PROBE_S seconds, and the rest go to a
        LocalCluster only if, at the measured cost per item and with the idle cores, the cluster
        would finish sooner."""
        if not self.local(len(items), threaded) and self.asked:
            return 0
        probing, times = not self.local(len(items), threaded), []
        for i, item in enumerate(items):
            start = time.perf_counter()
            take(i, fn(item))
            times.append(time.perf_counter() - start)
            if probing and len(times) >= 2 and sum(times) >= PROBE_S:
                probing = False
                warm = statistics.median(times[1:])         # the first call also loads the models
                saved = (len(items) - i - 1) * warm * (1 - 1 / min(self.workers, idle_cores()))
                if saved > CLUSTER_START_S + max(times[0] - warm, 0.0):
                    return i + 1
        return len(items)

    def _submit(self, fn: Callable, items: list):
        from distributed import as_completed
        from distributed.scheduler import KilledWorker
        client = self._client(len(items))
        futures = client.map(fn, items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future, result in as_completed(futures, with_results=True):
                yield index[future.key], result
        except KilledWorker as e:
            raise UserError(f"{e.allowed_failures + 1} Dask workers died running one task ({e.task}); "
                            f"check the workers' memory and logs") from None
        finally:
            client.cancel([f for f in futures if not f.done()])

    def _client(self, n: int):
        if self.client is not None:
            return self.client
        from distributed import Client, LocalCluster
        logging.getLogger("distributed").setLevel(logging.ERROR)    # its INFO lines would flood the CLIs' logs
        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)
            except OSError as e:
                raise UserError(f"cannot reach the Dask scheduler at {self.scheduler} ({e}); start it with "
                                f"'dask scheduler' and workers with 'dask worker {self.scheduler}' "
                                f"(see docs/scale.md)") from None
        else:
            self.cluster = LocalCluster(n_workers=min(self.workers, n), threads_per_worker=1, processes=True,
                                        dashboard_address=":0", silence_logs=logging.ERROR, preload=[__name__])
            self.client = Client(self.cluster)
        return self.client


def dask_setup(worker) -> None:
    """Preload of LocalCluster workers: Ctrl-C reaches the whole process group, but only this
    process handles it (it cancels the tasks and closes the cluster)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_tasks(fn: Callable, items: Iterable, scheduler: str | None = None, workers: int | None = None,
              min_items: int = MIN_CLUSTER_ITEMS, **options) -> list:
    """One `Executor.map` call with its own executor (see `Executor.map` for the options)."""
    with Executor(scheduler, workers, min_items) as ex:
        return ex.map(fn, items, **options)
