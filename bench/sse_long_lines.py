"""Is SSE parsing linear in a frame's length? One `data:` line of 1 MB and of 10 MB
(and optionally 100 MB), read in 64 KB pieces as a socket delivers it, through
`core.providers.sse.iter_sse`. Linear parsing makes the 10 MB line cost ~10× the
1 MB one; the quadratic parser this replaced made it ~100× (3.4 s for 10 MB).

    .venv/bin/python bench/sse_long_lines.py [--big]

Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.providers.base import Limits  # noqa: E402
from core.providers.sse import iter_sse  # noqa: E402

READ = 64 * 1024


async def parse_line(size: int) -> float:
    body = b"data: " + b"x" * size + b"\n\n"
    unbounded = Limits(max_response_bytes=2 * len(body), max_frame_bytes=2 * len(body))

    async def reads():
        for start in range(0, len(body), READ):
            yield body[start : start + READ]

    started = time.perf_counter()
    frames = [frame async for frame in iter_sse(reads(), unbounded)]
    took = time.perf_counter() - started
    assert len(frames) == 1 and len(frames[0].data) == size
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also parse a 100 MB line")
    args = parser.parse_args()
    sizes = [1_000_000, 10_000_000] + ([100_000_000] if args.big else [])
    times = {size: min(asyncio.run(parse_line(size)) for _ in range(3)) for size in sizes}
    base = times[sizes[0]]
    for size, took in times.items():
        print(f"{size / 1e6:>5.0f} MB line: {took * 1000:8.1f} ms  ({took / base:5.1f}x the 1 MB line)")


if __name__ == "__main__":
    main()
