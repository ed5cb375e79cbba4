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
