"""What the history shows of a run comes from its saved row: the model config's name, the
provider kind, the model and a compare column's position. A server whose usage cannot be
believed gets estimated tokens with the reason in the metrics; a run that fails before
anything is sent counts no output."""

from __future__ import annotations

from core.events import Failed, Finished
from core.providers import base
from core.request import ChatRequest
from core.runner import RunOptions, start_run

from runkit import SSE_HEAD, RawServer, chunk, openai_config, sse


async def answer(request, writer) -> None:
    writer.write(SSE_HEAD + sse(chunk({"content": "hello"}), chunk({}, "stop"), chunk({}, usage={"prompt_tokens": -1, "completion_tokens": 2}) | {"choices": []}, "[DONE]"))
    await writer.drain()


async def test_the_saved_row_names_the_config_provider_model_and_column(store) -> None:
    async with RawServer(answer) as server:
        config = openai_config(server.root_url, "model-x").model_copy(update={"name": "my config"})
        options = RunOptions(store=store, group_id="g1", group_position=2)
        handle = start_run(config, ChatRequest.from_prompt("x"), options)
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished)
    row = store.get_run(handle.run_id)
    assert (row.model_config_name, row.provider, row.model) == ("my config", config.provider, "model-x")
    assert (row.group_id, row.group_position, row.status) == ("g1", 2, "ok")


async def test_usage_that_cannot_be_believed_is_estimated_and_the_metrics_say_why() -> None:
    async with RawServer(answer) as server:
        handle = start_run(openai_config(server.root_url, "m"), ChatRequest.from_prompt("x"))
        last = [event async for event in handle.events()][-1]
    assert isinstance(last, Finished) and last.metrics["usage_source"] == "estimated"
    note = last.metrics["usage_note"]
    assert note.startswith("the server's usage was unusable (") and note.endswith("); tokens are estimated")
    assert last.metrics["completion_tokens"] == 2  # "hello": 5 characters, ~4 a token


async def test_a_run_that_fails_before_sending_counts_no_output(monkeypatch) -> None:
    monkeypatch.delenv("M1_UNSET_KEY", raising=False)
    config = openai_config("http://127.0.0.1:9", "m", api_key_env="M1_UNSET_KEY")
    handle = start_run(config, ChatRequest.from_prompt("a prompt of some length"))
    last = [event async for event in handle.events()][-1]
    assert isinstance(last, Failed) and last.error_type == base.MISSING_KEY
    m = last.metrics
    assert (m["completion_tokens"], m["output_chars"], m["prompt_tokens"]) == (0, 0, 0)
