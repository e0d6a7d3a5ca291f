"""When the simulator's bytes left, as the kernel saw them.

The simulator's log and every timing test compare a client's figures with the times the
simulator recorded for its writes. A time taken by the simulator after its write returns
is late by however long its process then waited for a core: on a loaded machine, now and
then tens of milliseconds, which made the truth wrong rather than the client. So on a
loopback connection each write asks the kernel for its transmit stamp (SO_TIMESTAMPING,
requested per `sendmsg`, software stamps, keyed by byte offset): taken as the packet is
handed to the loopback device, which is the moment the client's kernel stamps its
arrival. Both are wall-clock stamps; a write's time becomes `time.perf_counter()`'s as
now − its age, as the client's reads do (core.providers.netstamp).

Loopback only, where the stamp is ready when `sendmsg` returns. Elsewhere, or when the
kernel holds the bytes back (a full send queue), the write is timed when it returns, as
before; a stamp still owed is collected soon after and dropped, since an unread stamp
would keep the socket flagged as having news for the event loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import struct
import time
from typing import Any

from core.kernelstamps import MAX_STAMP_AGE_S, SO_TIMESTAMPING, TIMESPEC

_TX_SOFTWARE = 1 << 1  # stamp this write as it reaches the device
_SOFTWARE = 1 << 4  # report software stamps
_OPT_ID = 1 << 7  # key each stamp by the byte offset of the write's last byte
_OPT_TSONLY = 1 << 11  # the stamp alone, not a copy of the packet
_REPORTING = _SOFTWARE | _OPT_ID | _OPT_TSONLY
_REQUEST = [(socket.SOL_SOCKET, SO_TIMESTAMPING, struct.pack("i", _TX_SOFTWARE))]
_IP_RECVERR = {(socket.IPPROTO_IP, 11), (socket.IPPROTO_IPV6, 25)}  # IP_RECVERR, IPV6_RECVERR
_ORIGIN_TIMESTAMPING = 4  # SO_EE_ORIGIN_TIMESTAMPING
_EXTENDED_ERR = struct.Struct("IBBBBII")  # struct sock_extended_err
_SPACE = 256
_OWED_GIVE_UP_S = 10.0  # a stamp the kernel never sends: stop asking


class WireClock:
    """One connection's kernel transmit stamps; `send` writes, `sent_at` says when it left."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock  # a duplicate of the transport's socket: same connection, our own object
        self._bytes_out = 0  # every byte handed to the kernel on this connection since stamps were on
        self._awaited: int | None = None  # the key (last byte's offset) of the last stamped write
        self._owed: int | None = None  # the latest key whose stamp the kernel still owes
        self._owed_since = 0.0
        self._closed = False

    @classmethod
    def for_transport(cls, transport: asyncio.BaseTransport) -> WireClock | None:
        """A clock for a loopback TCP connection on Linux, else None."""
        extra = transport.get_extra_info("socket")
        if extra is None or SO_TIMESTAMPING is None or not _is_loopback(transport.get_extra_info("peername")):
            return None
        try:
            sock = socket.socket(fileno=os.dup(extra.fileno()))
        except OSError:
            return None
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, _REPORTING)
        except OSError:
            sock.close()
            return None
        return cls(sock)

    def counted(self, size: int) -> None:
        """`size` bytes went out another way (the transport): stamps are keyed by offset."""
        self._bytes_out += size

    def send(self, data: bytes) -> int:
        """Write what the socket takes now, asking for the last byte's stamp; the bytes
        written (0 if it would block). Only while the transport holds nothing back."""
        try:
            sent = self._sock.sendmsg([data], _REQUEST, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
        except (BlockingIOError, InterruptedError):
            return 0
        self._bytes_out += sent
        if sent:
            self._awaited = (self._bytes_out - 1) & 0xFFFFFFFF
        return sent

    def sent_at(self) -> float | None:
        """When the last `send` left, on `time.perf_counter()`'s clock, if the kernel has
        said so (else None: the stamp is collected when it comes, and dropped)."""
        awaited, self._awaited = self._awaited, None
        stamps = self._collect()
        found = stamps.get(awaited) if awaited is not None else None
        if awaited is not None and found is None:
            self._owe(awaited)
        if found is None:
            return None
        perf, wall = _now()
        age = wall - found
        return perf - age if 0.0 <= age <= MAX_STAMP_AGE_S else None

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    def _collect(self) -> dict[int, float]:
        """Every stamp waiting on the socket, by key."""
        stamps: dict[int, float] = {}
        while True:
            try:
                _data, ancillary, _flags, _address = self._sock.recvmsg(1, _SPACE, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
            except OSError:  # none waiting (EAGAIN), or the connection is gone
                break
            key = stamp = None
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING and len(data) >= TIMESPEC.size:
                    seconds, nanoseconds = TIMESPEC.unpack_from(data)
                    stamp = seconds + nanoseconds / 1e9
                elif (level, kind) in _IP_RECVERR and len(data) >= _EXTENDED_ERR.size:
                    fields = _EXTENDED_ERR.unpack_from(data)
                    if fields[1] == _ORIGIN_TIMESTAMPING:
                        key = fields[6]
            if key is not None and stamp:
                stamps[key] = stamp
        if self._owed is not None and self._owed in stamps:
            self._owed = None  # stamps come in order: the latest owed one settles the rest
        return stamps

    def _owe(self, key: int) -> None:
        """The kernel sends this stamp later: collect it then, so it does not sit on the
        socket (an unread stamp flags the socket to the event loop as having news)."""
        first = self._owed is None
        self._owed = key
        if first:
            self._owed_since = time.monotonic()
            asyncio.get_running_loop().call_later(0.001, self._settle)

    def _settle(self) -> None:
        if self._closed or self._owed is None:
            return
        self._collect()
        if self._owed is None:
            return
        if time.monotonic() - self._owed_since >= _OWED_GIVE_UP_S:
            self._owed = None  # never coming: stop asking
            return
        asyncio.get_running_loop().call_later(0.001, self._settle)


def _now() -> tuple[float, float]:
    """This moment on `perf_counter`'s clock and on the wall clock, read between two
    `perf_counter` readings (again if the process lost its core in between)."""
    for _attempt in range(3):
        before = time.perf_counter()
        wall = time.time()
        after = time.perf_counter()
        if after - before < 20e-6:
            break
    return (before + after) / 2, wall


def _is_loopback(peer: Any) -> bool:
    try:
        return ipaddress.ip_address(str(peer[0]).split("%", 1)[0]).is_loopback
    except (ValueError, TypeError, IndexError):
        return False
