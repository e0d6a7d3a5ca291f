"""The log line each run ends with (what `llmwb logs` and a bug report show): its
status, figures and error, the same figures the run's last event carries."""

from __future__ import annotations

import logging

from core.events import Failed, Finished

from runkit import SSE_HEAD, RawServer, chunk, json_response, openai_config, run_to_end, sse

USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def end_lines(caplog, run_id: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "llmwb" and r.getMessage().startswith(f"run {run_id} end:")]


async def test_a_finished_run_logs_its_status_figures_and_tokens(caplog) -> None:
    caplog.set_level(logging.INFO, logger="llmwb")

    async def answer(request, writer) -> None:
        writer.write(SSE_HEAD + sse(chunk({"content": "hello"}), chunk({}, "stop"), chunk({}, usage=USAGE) | {"choices": []}, "[DONE]"))
        await writer.drain()

    async with RawServer(answer) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), "x")
    last = outcome.last
    assert isinstance(last, Finished)
    m = last.metrics
    assert end_lines(caplog, last.run_id) == [
        f"run {last.run_id} end: status=ok ttft={m['ttft_ms']:.1f}ms total={m['total_ms']:.1f}ms tokens=7+3=10 chars=5"
    ]


async def test_a_failed_run_logs_its_error_and_a_dash_for_figures_it_never_had(caplog) -> None:
    caplog.set_level(logging.INFO, logger="llmwb")

    async def answer(request, writer) -> None:
        writer.write(json_response(400, {"error": {"message": "bad param", "type": "invalid_request_error"}}))
        await writer.drain()

    async with RawServer(answer) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), "x")
    last = outcome.last
    assert isinstance(last, Failed)
    m = last.metrics
    (line,) = end_lines(caplog, last.run_id)
    assert line == (
        f"run {last.run_id} end: status=error ttft=- total={m['total_ms']:.1f}ms "
        f"tokens={m['prompt_tokens']}+{m['completion_tokens']}={m['total_tokens']} chars=0 error={last.error}"
    )
