"""What the OpenAI decoder reads off a chunk's envelope (id, model, usage) and what it
says when a stream stops short."""

from __future__ import annotations

import orjson
import pytest

from core.providers.base import Frame, ProviderError
from core.providers.openai_chat import OpenAIChatDecoder


def data_frame(obj: dict) -> Frame:
    data = orjson.dumps(obj).decode()
    return Frame(at=0.0, raw="data: " + data, event=None, data=data)


def text_chunk(text: str, **envelope) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}}], **envelope}


def test_the_id_and_the_model_may_arrive_on_different_chunks():
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("a", id="chatcmpl-9")))
    decoder.feed(data_frame(text_chunk("b", model="served-model")))
    decoder.feed(data_frame(text_chunk("c", id="other", model="other")))  # the first ones stand
    final = decoder.response.snapshot()
    assert (final["id"], final["model"], final["content"]) == ("chatcmpl-9", "served-model", "abc")


@pytest.mark.parametrize(("envelope", "said"), [({"id": 5}, "id is int"), ({"id": "x", "model": ["m"]}, "model is list")])
def test_an_id_or_model_of_the_wrong_type_is_a_malformed_chunk_naming_it(envelope, said):
    decoder = OpenAIChatDecoder(stream=True)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(data_frame(text_chunk("a", **envelope)))
    assert caught.value.error_type == "malformed_chunk"
    assert caught.value.message.startswith(f"malformed chunk ({said}, not a string): ")


def test_a_usage_without_prompt_tokens_counts_none_in():
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("a", id="c", model="m")))
    decoder.feed(data_frame({"id": "c", "choices": [], "usage": {"completion_tokens": 3, "total_tokens": 3}}))
    usage = decoder.response.usage
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (0, 3, 3)


def test_a_stream_that_stops_short_says_what_is_missing():
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("half an answ", id="c", model="m")))
    with pytest.raises(ProviderError) as caught:
        decoder.finish()
    assert (caught.value.error_type, caught.value.message) == (
        "stream_cut", "stream ended before [DONE] and before a finish_reason: the response is incomplete"
    )


def test_llama_servers_own_timings_become_server_timings_figures():
    # The `timings` object llama-server appends to its last chunk (fields as it sends them).
    timings = {"prompt_n": 11, "prompt_ms": 40.25, "prompt_per_token_ms": 3.66, "prompt_per_second": 273.29,
               "predicted_n": 20, "predicted_ms": 400.5, "predicted_per_token_ms": 20.03, "predicted_per_second": 49.94}  # fmt: skip
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("x", id="c", model="gemma")))
    decoder.feed(data_frame({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "timings": timings}))
    final = decoder.response.snapshot()
    assert final["timings"] == timings
    assert final["server_timings"] == {
        "source": "llama.cpp", "prompt_tokens": 11, "prompt_ms": 40.25, "prompt_tps": 273.29,
        "decode_tokens": 20, "decode_ms": 400.5, "decode_tps": 49.94, "total_ms": 440.75,
    }  # fmt: skip


def test_an_x_groq_that_is_not_an_object_costs_nothing():
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("kept", id="c", model="m", x_groq="req_01")))
    assert decoder.response.snapshot()["content"] == "kept"
    assert decoder.response.usage is None


def test_a_done_line_makes_a_stream_without_finish_reason_whole():
    decoder = OpenAIChatDecoder(stream=True)
    decoder.feed(data_frame(text_chunk("all", id="c", model="m")))
    assert decoder.feed(Frame(at=0.0, raw="data: [DONE]", event=None, data="[DONE]")) == ()
    decoder.finish()  # not a stream_cut


def test_frames_without_data_carry_nothing():
    decoder = OpenAIChatDecoder(stream=True)
    assert list(decoder.feed(Frame(at=0.0, raw="event: ping", event="ping", data=""))) == []
    assert list(decoder.feed(Frame(at=0.0, raw=": OPENROUTER PROCESSING", event="comment", data=""))) == []


@pytest.mark.parametrize("body", ["upstream exploded", "<html>502 Bad Gateway</html>"])
def test_an_error_event_whose_body_is_not_json_is_the_servers_error_not_a_malformed_chunk(body):
    decoder = OpenAIChatDecoder(stream=True)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(Frame(at=0.0, raw=f"event: error\ndata: {body}", event="error", data=body))
    assert caught.value.error_type != "malformed_chunk"
    assert body in caught.value.message


@pytest.mark.parametrize(("stream", "where"), [(True, "provider error in stream"), (False, "provider error in response")])
@pytest.mark.parametrize("data", ["upstream exploded", '"Overloaded"', "503"])
def test_an_error_event_says_where_the_error_came_and_quotes_it(stream, where, data):
    decoder = OpenAIChatDecoder(stream=stream)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(Frame(at=0.0, raw=f"event: error\ndata: {data}", event="error", data=data))
    assert caught.value.error_type != "malformed_chunk"
    assert caught.value.message.startswith(where)
    assert data.strip('"') in caught.value.message


@pytest.mark.parametrize(("data", "said"), [("{not json" + "x" * 300, "not JSON"), ("[" + "1," * 200 + "1]", "not an object")])
def test_a_malformed_chunk_quotes_its_first_120_characters(data, said):
    decoder = OpenAIChatDecoder(stream=True)
    with pytest.raises(ProviderError) as caught:
        decoder.feed(Frame(at=0.0, raw="data: " + data, event=None, data=data))
    assert caught.value.error_type == "malformed_chunk"
    assert caught.value.message == f"malformed chunk ({said}): {data[:120]!r}"


def test_an_error_event_whose_body_is_the_error_object_itself_is_an_error():
    # `event: error` + `data: {"message": …}` (no "error" key): the body is the error.
    decoder = OpenAIChatDecoder(stream=True)
    data = '{"message": "Overloaded", "type": "overloaded_error"}'
    with pytest.raises(ProviderError) as caught:
        decoder.feed(Frame(at=0.0, raw="event: error\ndata: " + data, event="error", data=data))
    assert caught.value.error_type == "overloaded"
    assert caught.value.message.startswith("provider error in stream: ") and "Overloaded" in caught.value.message
