#!/usr/bin/env python3
"""Relay stdio between an MCP client and a server command, logging every line to stderr.

Usage: wire_tap.py -- <server command...>

Lines from our stdin go to the server's stdin (logged as `[wire] c->s`), lines from the
server's stdout come back on our stdout (logged as `[wire] s->c`). The server's stderr is
inherited. When our stdin closes, the server's stdin is closed; the tap exits with the
server's status. Used by python_client.py --wire-trace to capture wire evidence.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import BinaryIO


def log(direction: str, line: bytes) -> None:
    text = line.decode("utf-8", errors="replace").rstrip("\n")
    sys.stderr.write(f"[wire] {direction} {text}\n")
    sys.stderr.flush()


def pump(source: BinaryIO, sink: BinaryIO, direction: str) -> None:
    try:
        for line in iter(source.readline, b""):
            log(direction, line)
            sink.write(line)
            sink.flush()
    except (BrokenPipeError, ValueError):
        pass
    finally:
        try:
            sink.close()
        except (BrokenPipeError, OSError):
            pass


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.stderr.write("usage: wire_tap.py -- <server command...>\n")
        return 2
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    to_server = threading.Thread(target=pump, args=(sys.stdin.buffer, child.stdin, "c->s"), daemon=True)
    to_client = threading.Thread(target=pump, args=(child.stdout, sys.stdout.buffer, "s->c"), daemon=True)
    to_server.start()
    to_client.start()
    code = child.wait()
    to_client.join(timeout=2)
    log("--", f"server exited with status {code}".encode())
    return code


if __name__ == "__main__":
    sys.exit(main())
