"""Linux's socket options for kernel packet stamps, which Python's socket module does not
name: the receive side (`core.providers.netstamp`) and the simulator's transmit side
(`core.simulator.wireclock`) share them. Kept free of heavy imports: the simulator's
process loads it on start."""

from __future__ import annotations

import os
import struct
import sys


def _asm_generic_numbering() -> bool:
    """Whether this machine numbers socket options as Linux's asm-generic headers do (alpha,
    parisc and sparc number them otherwise: they get no kernel stamps)."""
    if sys.platform != "linux":
        return False
    machine = os.uname().machine
    generic = machine in {"x86_64", "i386", "i686", "aarch64", "s390x", "ppc64le", "ppc64"}
    return generic or machine.startswith(("arm", "riscv"))


_GENERIC = _asm_generic_numbering()
# SO_TIMESTAMPNS_OLD: each received packet's arrival as a native `struct timespec`.
SO_TIMESTAMPNS: int | None = 35 if _GENERIC else None
# SO_TIMESTAMPING_OLD: transmit (and receive) stamps chosen by flags.
SO_TIMESTAMPING: int | None = 37 if _GENERIC else None
TIMESPEC = struct.Struct("ll")  # tv_sec, tv_nsec as the C longs of this machine
# A stamp older than this is not trusted (the wall clock was stepped meanwhile).
MAX_STAMP_AGE_S = 30.0
