"""Start the Reviewer desktop application: `python main.py [--database URL] [--user NAME]
[--screenshot FILE]` (with a sub-command, it is the `reviewer` command line)."""

import sys

from reviewer.cli import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
