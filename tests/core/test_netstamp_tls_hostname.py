"""The stamped connection (core.providers.netstamp) keeps TLS's hostname check: a
certificate that is not valid for the name the base URL uses is refused, even when the
address behind the name is one the certificate names."""

from __future__ import annotations

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
