"""The process `llmwb web` starts for each browser tab: the workbench, tied to the server's life.

textual-serve stops a tab's app by asking it to quit over its pipe; when the server
itself goes away first (Ctrl-C while tabs are open, a crash, SIGKILL) nothing asks,
and the app would run on, orphaned, with this environment's keys. Linux can deliver
a signal to a process when its parent dies; the app asks for SIGTERM.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def tie_to_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # no prctl: the tab then lives until it is closed
        return
    if os.getppid() != parent:  # the server died before the request took effect
        sys.exit(0)


def main() -> int:
    tie_to_parent()
    from tui.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
