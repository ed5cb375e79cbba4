"""A batch of conversions on `core.execute` (this process, a LocalCluster or a Dask cluster),
published in input order: what detect.py does with a folder or a manifest."""
import tempfile
from functools import partial
from typing import Callable

from emovc.convert.config import DetectConfig
from emovc.convert.pipeline import Converter, Request, publish
from emovc.core.errors import UserError
from emovc.core.execute import Executor, cached, default_workers

THREADS_PER_CONVERSION = 4      # what the stages' models use (core.threads.cpu_threads' limit)


def convert_one(config: DetectConfig, request: Request, say, folder: str | None,
                path) -> tuple[tuple | None, str | None]:
    """((audio, sr, report, png), None) for one input of a batch, or (None, why it failed); this
    runs on the batch's workers, each of which loads the models once. `audio` is the WAV file
    the output was streamed into, made in `folder` (one this process can read), or, with
    `folder` None (workers of a remote cluster), that file's bytes."""
    converter = lambda: Converter(config, say=say or (lambda message: None))
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


def convert_batch(config: DetectConfig, files: list, request: Request, output_dir, say=None,
                  on_published: Callable[[dict], None] = lambda report: None,
                  on_failed: Callable[[object, str], None] = lambda path, error: None,
                  progress: bool = True) -> tuple[list[dict], list[tuple]]:
    """Convert `files` on the config's workers or cluster and publish each into `output_dir`
    in input order (numbers unique, gap-free and as in a one-process run): (reports, [(file,
    why it failed)]); each is also handed to `on_published` / `on_failed` as it is known."""
    reports, failed, arrived = [], [], {}

    def publish_in_order(i: int, result) -> None:
        arrived[i] = result
        while (n := len(reports) + len(failed)) in arrived:
            made, error = arrived.pop(n)
            if error is not None:
                failed.append((files[n], error))
                on_failed(files[n], error)
                continue
            reports.append(publish(output_dir, *made))
            on_published(reports[-1])

    workers = config.batch.workers or default_workers(THREADS_PER_CONVERSION)
    # outputs made on this machine wait in a private folder until their turn; one left over by an
    # error or Ctrl-C (made out of order, never published) goes with it
    with tempfile.TemporaryDirectory(prefix="detect-batch-") as made_here, \
            Executor(config.batch.scheduler, workers, min_items=2 * workers) as executor:
        folder = None if config.batch.scheduler else made_here
        executor.map(partial(convert_one, config, request, say, folder), files, on_result=publish_in_order,
                     progress=progress, desc="converting")
    return reports, failed
