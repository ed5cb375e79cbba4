"""How many CPU threads a model may use."""
import os


def cpu_threads(limit: int = 4) -> int:
    """The cores this process may run on (its CPU affinity where the OS has one), at most `limit`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(limit, cores))
