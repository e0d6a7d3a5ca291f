"""A request refused before any body arrives still reports how often it was sent: the
retries the SDK made are the first thing to check when a 5xx took seconds to fail."""

from __future__ import annotations

from hostile_kit import HostileServer, openai_config, run_to_end, send, whole


async def test_a_server_error_after_a_retry_reports_the_retry_and_its_time_to_headers():
    async with HostileServer(send(whole(503, b'{"error": {"message": "busy"}}', **{"retry-after-ms": "1"}))) as server:
        outcome = await run_to_end(openai_config(server.root_url, params={"max_retries": 1}))
        assert len(server.received) == 2
    failure = outcome.last
    assert failure.http_status == 503
    assert failure.metrics["retries"] == 1
    assert failure.metrics["ttfb_ms"] is not None
