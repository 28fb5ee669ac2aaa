"""Start the Reviewer desktop application: `python main.py [--database URL] [--user NAME]
[--screenshot FILE]`."""

import sys

from reviewer.cli import build_parser, setup_logging
from reviewer.gui import run_gui


def main() -> int:
    args = build_parser().parse_args(sys.argv[1:])
    if args.command is not None:
        from reviewer.cli import main as cli_main

        return cli_main(sys.argv[1:])
    setup_logging()
    return run_gui(args)


if __name__ == "__main__":
    raise SystemExit(main())
