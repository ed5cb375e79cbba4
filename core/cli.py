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
