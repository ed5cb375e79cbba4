"""What every command-line script shares: one-line errors, exit codes, Ctrl-C, argument parsing."""
import argparse
import sys
from pathlib import Path
from typing import Callable

from emovc.core.errors import UserError


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


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors end in one 'error: ...' line (exit 2), with a hint when an
    argument that starts with '-' is probably a file name."""

    def parse_known_args(self, args=None, namespace=None):
        self._given = sys.argv[1:] if args is None else list(args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str):
        known = self._option_string_actions
        dashed = [a for a in getattr(self, "_given", ()) if a.startswith("-") and a != "-" and a != "--"
                  and a.split("=")[0] not in known and not _number(a)]
        if dashed:
            message += (f"; if {dashed[0]!r} is a file name, write it as ./{dashed[0]} "
                        f"or put -- before the file arguments")
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}\n")


def path_arg(value: str) -> Path:
    """An argparse type for paths: an empty string is an error, not the current folder."""
    if not value.strip():
        raise argparse.ArgumentTypeError("empty path; give a file or folder name (use . for the current folder)")
    return Path(value)


def add_config_options(parser, default: str | None = None, what: str = "config YAML",
                       example: str = "section.key=value") -> None:
    """The --config and --set options every script shares (--set is repeatable, values are YAML)."""
    if default is None:
        parser.add_argument("--config", required=True, type=path_arg, help=f"{what} (see configs/)")
    else:
        parser.add_argument("--config", default=default, type=path_arg, help=f"{what} (default: %(default)s)")
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
    like any key (an error names the option) and the resolved config records them."""
    from emovc.core.config import Override       # yaml: imported only once the arguments are parsed (fast --help)
    return [Override(f"{section}.{key}={value}", f"--{key} {value}") for key in ("scheduler", "workers")
            if (value := getattr(args, key)) is not None]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
