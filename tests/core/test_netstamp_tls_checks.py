"""The stamped connection (core.providers.netstamp) keeps TLS's checks: a certificate
that is not valid for the name the base URL uses is refused, even when the address
behind the name is one the certificate names; a server that accepts the connection but
never answers the handshake is given up after the connect timeout."""

from __future__ import annotations

import asyncio
import ssl

import httpx2
import pytest

from core.providers.netstamp import stamp_reads

from test_netstamp import TLS_DIR, _tls_server


async def test_a_certificate_for_another_name_is_refused_over_the_stamped_connection() -> None:
    verify = ssl.create_default_context(cafile=str(TLS_DIR / "cert.pem"))  # valid for 127.0.0.1 only
    with _tls_server() as (url, _written):
        by_name = url.replace("https://127.0.0.1:", "https://localhost:")
        async with stamp_reads(httpx2.AsyncClient(trust_env=False, verify=verify)) as client:
            with pytest.raises(httpx2.ConnectError, match="[Hh]ostname mismatch|not valid for 'localhost'"):
                await client.post(by_name, json={})


async def test_a_tls_handshake_that_never_comes_is_given_up_after_the_connect_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the client's hello, answers nothing; returns at hang-up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        timeout = httpx2.Timeout(30.0, connect=0.3)  # every other wait far longer than the test's bound
        async with stamp_reads(httpx2.AsyncClient(trust_env=False, timeout=timeout)) as client:
            with pytest.raises(httpx2.ConnectTimeout):
                await asyncio.wait_for(client.post(f"https://127.0.0.1:{port}/v1/chat/completions", json={}), 20)
    finally:
        server.close()
        await server.wait_closed()
