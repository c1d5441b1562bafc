"""Mumble's local AWS emulator: moto's server, extended where moto differs from AWS.

Run by `cargo xtask emulator`, `cargo xtask test` and `cargo xtask dev` as
`.tools/venv/bin/python xtask/emulator/emulator.py -H 127.0.0.1 -p PORT`.
The extensions live in `mumble_moto/` next to this file; README.md lists what they change.
"""

import sys

from moto.server import main

import mumble_moto

if __name__ == "__main__":
    mumble_moto.install()
    main(sys.argv[1:])
