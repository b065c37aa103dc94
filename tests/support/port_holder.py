"""Which program holds a TCP port: for an error that says what to stop (Linux; elsewhere nothing is named)."""

from __future__ import annotations

import os
from pathlib import Path

_LISTEN = "0A"


def _listening_inodes(port: int) -> set[str]:
    """The socket inodes listening on ``port``, from the kernel's TCP tables."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _command_line(pid: str) -> str:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def port_holder(port: int) -> str | None:
    """``pid 123: phoenix serve`` for the process listening on ``port``, or None when it cannot be told."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.scandir(f"/proc/{pid}/fd"):
                if os.readlink(fd.path) in wanted:
                    return f"pid {pid}: {_command_line(pid)}"
        except OSError:
            continue
    return None
