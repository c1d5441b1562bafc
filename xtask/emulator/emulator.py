"""Mumble's local AWS emulator: moto's server, extended where moto differs from AWS.

Run by `cargo xtask emulator`, `cargo xtask test` and `cargo xtask dev` as
`.tools/venv/bin/python xtask/emulator/emulator.py -H 127.0.0.1 -p PORT`.
The extensions live in `mumble_moto/` next to this file; README.md lists what they change.
"""

import os
import sys
import threading
import time

from moto.server import main

import mumble_moto
from mumble_moto import persistence

def exit_with_parent() -> None:
    """Stops (saving first) when the process that started the emulator is gone, even when it
    was killed without a chance to stop us (SIGKILL, the OOM killer, a closed terminal)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.25)
        print(f"the emulator's parent (pid {parent}) is gone; stopping", file=sys.stderr, flush=True)
        persistence.close(exit_code=0)

    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    exit_with_parent()
    mumble_moto.install()
    try:
        main(sys.argv[1:])
    finally:
        # moto turns SIGTERM and SIGINT into SystemExit; a clean stop saves a snapshot.
        persistence.close()
