"""The desktop bundle's entry point (packaging/reviewer.spec): the `reviewer` command, window
and command line alike, as the console script starts it."""

import multiprocessing

from reviewer.cli import main

if __name__ == "__main__":
    # Export and import workers are forked on Linux; elsewhere they are spawned, and a frozen
    # program has to recognise a worker it started.
    multiprocessing.freeze_support()
    raise SystemExit(main())  # its own arguments, as the process's own command (cli.main)
