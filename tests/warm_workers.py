"""xdist workers forked from a warm process instead of started cold (`-p warm_workers`).

Each xdist worker is a new interpreter that imports what the tests import before its first
test: the SDKs (anthropic ~1.3 s of CPU, openai ~0.5 s), SQLModel, FastAPI, Textual,
hypothesis — ~3 s of CPU a worker, so four workers on two cores ran no test for the first
~7.5 s of a lane. Here the controller starts one process (the zygote) that imports those
libraries once; xdist starts `python tests/warm_workers.py worker` (the launcher) in place of
`python -u -c BOOTSTRAP`, which hands its stdin, stdout and stderr to the zygote; the zygote forks, and
the child runs xdist's bootstrap on them as that interpreter would have, then exits as it
would have (atexit handlers included). The launcher waits for the child's exit status and
exits with it. Where the zygote cannot be reached the launcher runs the worker itself.

Only third-party libraries are preloaded, never llmwb's own modules or a test module:
those are imported by each worker as before (pytest rewrites the test modules' asserts as
it imports them), and the SDKs are loaded the way llmwb loads them (without aiohttp).
"""

from __future__ import annotations

import builtins
import io
import json
import os
import selectors
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any, NoReturn

from procs import end

SOCKET_ENV = "PYTEST_WARM_WORKERS_SOCKET"
# What every worker imports while collecting (tests/conftest.py, the test modules), heaviest
# first. httpx2 is aliased first, as tests/alias_httpx_plugin.py does before respx loads.
# Not the pytest plugins (respx, syrupy, hypothesis): pytest rewrites their asserts as it
# loads them, which it cannot do once they are imported. anyio is one too, and the SDKs
# import it: pyproject's filterwarnings says why its warning is dropped.
PRELOAD = ("anthropic", "openai", "openai.resources.chat", "sqlmodel", "sqlalchemy", "fastapi", "textual.app",
           "yaml", "orjson")  # fmt: skip


# --- the controller: a pytest plugin -------------------------------------------------


def pytest_configure(config: Any) -> None:
    """Start the zygote and have xdist start the launcher, when the workers are local
    (`-n N`: N times "popen"), this is the controller (xdist sets `tx` before this), and
    the run is the whole of tests/ (a lane, CI): a few files given by hand may need none of
    the libraries, and would wait ~3 s for the zygote to import them all."""
    specs = config.getvalue("tx") or []
    if hasattr(config, "workerinput") or config.getvalue("collectonly") or not specs:
        return
    if config.args_source != config.ArgsSource.TESTPATHS:
        return
    if any(spec != "popen" for spec in specs) or not hasattr(socket, "send_fds"):
        return
    directory = tempfile.mkdtemp(prefix="pytest-warm-workers-")
    path = os.path.join(directory, "zygote")
    try:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(path)  # bound before the zygote starts: a launcher may connect at once
    except OSError:  # a path too long for a socket, say: cold workers, as without this plugin
        os.rmdir(directory)
        return
    listener.listen(64)
    zygote = subprocess.Popen(
        [sys.executable, __file__, "zygote", str(listener.fileno())], pass_fds=[listener.fileno()],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    listener.close()
    os.environ[SOCKET_ENV] = path  # the launchers inherit it
    config._warm_workers = (zygote, directory)
    config.option.tx = [f"popen//python={shlex.join([sys.executable, __file__, 'worker'])}"] * len(specs)


def pytest_unconfigure(config: Any) -> None:
    started = getattr(config, "_warm_workers", None)
    if started is None:
        return
    zygote, directory = started
    end(zygote)  # the workers have ended (xdist ends them at the session's end)
    os.environ.pop(SOCKET_ENV, None)
    for leftover in Path(directory).iterdir():
        leftover.unlink()
    os.rmdir(directory)


# --- the zygote: `python tests/warm_workers.py zygote FD` ----------------------------


def _preload() -> None:
    import httpx2

    httpx2.alias_httpx()
    from core.providers.http import import_sdks  # marks the SDKs' aiohttp transport absent

    import_sdks(*PRELOAD)
    # llmwb's own modules are imported by each worker in its own environment (this one is
    # the controller's before tests/conftest.py cleaned it), as a cold worker would.
    for name in [name for name in sys.modules if name == "core" or name.startswith("core.")]:
        del sys.modules[name]


def _serve(listener: socket.socket) -> None:
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the pipe
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    waiting: dict[int, socket.socket] = {}
    controller = os.getppid()
    while os.getppid() == controller:  # a controller killed outright leaves no zygote behind
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is listener:
                connection, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
                if len(fds) != 3 or not message:
                    connection.close()
                    for fd in fds:
                        os.close(fd)
                    continue
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    for own in (listener, connection):
                        own.close()
                    for fd in (wake_read, wake_write):
                        os.close(fd)
                    _become_worker(json.loads(message), fds)
                for fd in fds:
                    os.close(fd)
                try:
                    connection.send(b"forked")  # the launcher lets go of the streams
                except OSError:
                    pass  # it is gone; the worker still reports through xdist's pipes
                waiting[pid] = connection
            else:
                os.read(wake_read, 4096)
                _report_ended(waiting)


def _report_ended(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        connection = waiting.pop(pid, None)
        if connection is not None:
            try:
                connection.send(str(os.waitstatus_to_exitcode(status)).encode())
            except OSError:
                pass  # the launcher is gone (killed): nobody to tell
            connection.close()


def _become_worker(request: dict[str, Any], fds: list[int]) -> NoReturn:
    """In the forked child: become `python [-u] [-B] -c CODE` on the launcher's streams."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # As the launcher had it: ignored when pytest was started in the background (a cold
    # worker inherits that, and execnet's SIGINT to itself at shutdown then does nothing).
    signal.signal(signal.SIGINT, signal.SIG_IGN if request["sigint_ignored"] else signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.umask(request["umask"])
    os.environ.clear()
    os.environ.update(request["env"])
    flags = request["flags"]
    sys.dont_write_bytecode = "-B" in flags
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
    sys.stdout, sys.stderr = (_text_out(fd, "-u" in flags) for fd in (1, 2))
    sys.argv = ["-c"]
    sys.path[0] = ""  # as `python -c` starts: the current directory first
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    exec(compile(request["code"], "<string>", "exec"), main.__dict__)
    sys.exit(0)  # an interpreter's ordinary end: atexit handlers, flushed streams


def _text_out(fd: int, unbuffered: bool) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    if unbuffered:  # `-u`: every write goes straight to the descriptor
        return io.TextIOWrapper(raw, write_through=True)  # type: ignore[arg-type]
    return io.TextIOWrapper(io.BufferedWriter(raw), line_buffering=fd == 2)


def _zygote_main(fd: int) -> None:
    # ctrl+c reaches the whole process group: the controller ends the zygote itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    listener = socket.socket(fileno=fd)
    from core.collector import paused_for_start_up  # as the reader forker preloads

    # Frozen, what the children share is never walked by their collections (nor copied).
    with paused_for_start_up():
        _preload()
    _serve(listener)


# --- the launcher: `python tests/warm_workers.py worker [-u] [-B] -c CODE` ---------------
# It runs for every worker: it keeps to what this module imports already (the standard
# library), and stops at handing over.


def _split(args: list[str]) -> tuple[list[str], str]:
    """(interpreter flags, code) of `[flags…] -c CODE`."""
    at = args.index("-c")
    return args[:at], args[at + 1]


def _run_here(flags: list[str], code: str) -> NoReturn:
    os.execv(sys.executable, [sys.executable, *flags, "-c", code])


def _launch(args: list[str]) -> NoReturn:
    """The launcher: hand this process's streams to the zygote, or run the worker here."""
    flags, code = _split(args)
    path = os.environ.get(SOCKET_ENV)
    request = {
        "flags": flags, "code": code, "cwd": os.getcwd(), "env": dict(os.environ), "umask": os.umask(0o022),
        # Started from a background job, SIGINT comes ignored, and a cold worker keeps it so.
        "sigint_ignored": signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
    }  # fmt: skip
    os.umask(request["umask"])
    try:
        zygote = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        zygote.connect(path or "")
        socket.send_fds(zygote, [json.dumps(request).encode()], [0, 1, 2])
        forked = zygote.recv(64) == b"forked"
    except OSError:
        forked = False
    if not forked:
        _run_here(flags, code)
    # The worker holds the pipes now: xdist sees it end when it ends, not when this does.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    try:
        status = zygote.recv(64)
    except OSError:
        status = b""
    if not status:
        print("warm worker: the zygote went away before the worker ended", file=sys.stderr)
        sys.exit(1)
    sys.exit(int(status))


if __name__ == "__main__":
    if sys.argv[1] == "zygote":
        _zygote_main(int(sys.argv[2]))
    else:
        _launch(sys.argv[2:])
