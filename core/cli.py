"""What every command-line script shares: one-line errors, exit codes, Ctrl-C."""
import sys
from typing import Callable

from core.errors import UserError


def run(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> None:
    """Run a CLI entry point; a UserError becomes 'error: ...' on stderr and exit code 2."""
    try:
        code = main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted; nothing partial was written", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def add_config_options(parser, default: str | None = None, what: str = "config YAML",
                       example: str = "section.key=value") -> None:
    """The --config and --set options every script shares (--set is repeatable, values are YAML)."""
    if default is None:
        parser.add_argument("--config", required=True, help=f"{what} (see configs/)")
    else:
        parser.add_argument("--config", default=default, help=f"{what} (default: %(default)s)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config key, e.g. --set {example} (repeatable)")


def add_execution_options(parser, workers: str = "this machine's cores") -> None:
    """--scheduler and --workers: where work over many files runs (see core/execute.py)."""
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786",
                        help="run on this existing Dask cluster instead of this machine (docs/scale.md)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help=f"worker processes on this machine (default: {workers}); 1 = this process only")


def execution_overrides(args, section: str) -> list[str]:
    """--scheduler/--workers as config overrides of `section`.scheduler/.workers, so they validate
    like any key and the resolved config records them."""
    out = [] if args.scheduler is None else [f"{section}.scheduler={args.scheduler}"]
    return out + ([] if args.workers is None else [f"{section}.workers={args.workers}"])
