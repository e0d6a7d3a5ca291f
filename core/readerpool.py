"""The reader processes, seen from the app: the forker (`python -m core.readerchild`),
started once, preloads what a run needs and forks workers in milliseconds (a fork of a
process that never started a thread; this threaded process is never forked). One spare
worker waits ready; a worker whose run is over waits for the next (up to MAX_IDLE).
Each worker has a socket to the app, read here on a thread of its own; a worker ends
when its socket does: at exit (atexit), and if the app dies. The forker and its workers
live in a session of their own, so a closed terminal's SIGHUP reaches only the app,
which ends the runs and has them saved. core.readerproc says why processes.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import socket
import struct
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.readerchild import FORKER_FD_ENV, LOG_ENV

if TYPE_CHECKING:
    from core.readerproc import ReaderRunHandle

log = logging.getLogger("llmwb")

SPARES = 1  # started ahead, warm, waiting for a run
MAX_IDLE = 2  # workers kept after their run, for the next ones
CLOSE_WAIT_S = 0.1  # closing at exit waits no longer than this for a lock
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


class _Forker:
    """The forker process (`python -m core.readerchild`): started once, it forks workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: socket.socket | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, FORKER_FD_ENV: str(theirs.fileno())}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))
        log_path = _log_path()
        if log_path:
            env[LOG_ENV] = log_path
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "core.readerchild"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=_stderr(log_path), pass_fds=(theirs.fileno(),), start_new_session=True, env=env,
            )  # fmt: skip
        finally:
            theirs.close()
        self._requests = ours

    def fork(self) -> tuple[int, int]:
        """A new worker: (its pid, the app's end of its socket). Waits for the forker to
        have preloaded (only the first time: seconds, on a loaded machine)."""
        with self._lock:
            for attempt in (1, 2):
                if self._requests is None or (self._process is not None and self._process.poll() is not None):
                    self._start()
                assert self._requests is not None
                ours, theirs = socket.socketpair()
                try:
                    socket.send_fds(self._requests, [b"f"], [theirs.fileno()])
                    pid = struct.unpack("!q", _receive_exactly(self._requests, 8))[0]
                    return pid, ours.detach()
                except OSError:
                    ours.close()
                    self._requests.close()
                    self._requests = None  # it died: a new one, once
                    if attempt == 2:
                        raise
                finally:
                    theirs.close()
        raise AssertionError("unreachable")

    def close(self) -> None:
        """The forker exits; its workers end on their own sockets. Never waits long: a
        fork request stuck on a forker that does not answer is woken instead."""
        if not self._lock.acquire(timeout=CLOSE_WAIT_S):
            requests = self._requests
            if requests is not None:
                _shut(requests.fileno(), socket.SHUT_RDWR)  # the stuck request fails; it closes the socket
            return
        try:
            if self._requests is not None:
                self._requests.close()
                self._requests = None
        finally:
            self._lock.release()


def _shut(fd: int, how: int) -> None:
    """shutdown(2) on a socket fd that stays open (its owner closes it)."""
    sock = socket.socket(fileno=fd)
    try:
        sock.shutdown(how)
    except OSError:
        pass
    finally:
        sock.detach()


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = sock.recv(size - len(data))
        if not part:
            raise ConnectionResetError("the reader forker ended")
        data += part
    return data


class Worker:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self._fd = fd
        self._connection = Connection(fd)
        self._send_lock = threading.Lock()
        self.handle: ReaderRunHandle | None = None
        self.gone = False
        self.closing = False  # told to end: takes no more runs
        self.ended = threading.Event()  # its socket ended: the worker exited (or closed it, dying)
        threading.Thread(target=self._read, name=f"llmwb-reader-{pid}", daemon=True).start()

    def send(self, message: tuple[str, Any]) -> bool:
        with self._send_lock:
            if self.gone:
                return False
            try:
                self._connection.send(message)
            except OSError:  # the worker is gone, or told to end: its socket's end says so
                return False
        return True

    def close(self) -> None:
        """End the worker: it sees the end of its socket, finishes (and saves) a run still
        going, and exits. Only writes are shut: the thread reading it still owns the fd.
        Never waits long: a send stuck on a worker that reads nothing is broken instead
        (the fd stays open meanwhile: the reading thread closes it under the same lock)."""
        self.closing = True
        if not self._send_lock.acquire(timeout=CLOSE_WAIT_S):
            _shut(self._fd, socket.SHUT_RDWR)
            return
        try:
            if not self.gone:
                _shut(self._fd, socket.SHUT_WR)
        finally:
            self._send_lock.release()

    def _read(self) -> None:
        receive, loads = self._connection.recv_bytes, pickle.loads
        while True:
            try:
                message = loads(receive())
            except (EOFError, OSError):
                break
            handle = self.handle
            if handle is None:
                continue
            if message[0] == "events":
                handle.receive(message[1], message[2], message[3])
            elif message[0] == "news":
                handle.store_news(message[1], *message[2:])
            else:  # ("done", run_id): saved
                self.handle = None
                handle._close()
                pool.release(self)
        with self._send_lock:
            self.gone = True
            self._connection.close()
        handle, self.handle = self.handle, None
        if handle is not None:
            handle.reader_died(f"the reader process (pid {self.pid}) ended mid-run; what streamed before it is kept")
        self.ended.set()


def _log_path() -> str | None:
    for logger in (log, logging.getLogger()):
        for handler in logger.handlers:
            path = getattr(handler, "baseFilename", None)
            if path:
                return str(path)
    return None


def _stderr(log_path: str | None) -> Any:
    """A crash's traceback goes to the log file: the terminal belongs to the app."""
    if log_path:
        try:
            return open(log_path, "ab")  # noqa: SIM115 - handed to the child; ours closes with GC
        except OSError:
            pass
    return subprocess.DEVNULL


class Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forker = _Forker()
        self._idle: list[Worker] = []
        self._starting = 0
        self._closed = False
        self._everyone: list[Worker] = []

    def take_idle(self) -> Worker | None:
        """A worker waiting ready, if there is one; never waits. Spares are topped up."""
        with self._lock:
            worker = None
            while self._idle and worker is None:
                candidate = self._idle.pop()
                if not candidate.gone and not candidate.closing:
                    worker = candidate
        self.top_up()
        return worker

    def fork(self) -> Worker:
        """A new worker (waits for the forker's preloading the first time)."""
        worker = Worker(*self._forker.fork())
        with self._lock:
            self._everyone = [w for w in self._everyone if not w.gone] + [worker]
            closed = self._closed
        if closed:
            worker.close()
        return worker

    def top_up(self) -> None:
        """Fork spares in the background until SPARES wait ready."""
        with self._lock:
            wanted = SPARES - len(self._idle) - self._starting
            if self._closed or wanted <= 0:
                return
            self._starting += wanted
        for _ in range(wanted):
            threading.Thread(target=self._start_spare, name="llmwb-reader-spare", daemon=True).start()

    def _start_spare(self) -> None:
        try:
            worker = self.fork()
        except OSError:
            log.exception("could not start a reader process")
            with self._lock:
                self._starting -= 1
            return
        with self._lock:
            self._starting -= 1
            keep = not self._closed
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.close()

    def release(self, worker: Worker) -> None:
        with self._lock:
            keep = not self._closed and not worker.closing and len(self._idle) < MAX_IDLE
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.close()

    def close(self) -> None:
        """Every socket shut: idle workers exit at once, busy ones once their run is saved,
        the forker at once."""
        with self._lock:
            self._closed = True
            everyone, self._idle = self._everyone, []
        for worker in everyone:
            worker.close()
        self._forker.close()


pool = Pool()
atexit.register(pool.close)
