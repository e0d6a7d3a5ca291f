"""A config file's entries as `llmwb models import` reads them: each refusal names the file,
the entry and the key in the one line the user sees; what is accepted is saved as written,
and an export writes back exactly what an import reads."""

from __future__ import annotations

import pytest
import yaml

from core.config_yaml import (
    ConfigError,
    ImportReport,
    export_config,
    import_config,
    load_config_file,
    model_to_dict,
    parse_config,
    tool_to_dict,
)

ENTRY = "{name: a, provider: openai, model: m, %s}"
MODEL_KEYS = "allowed: name, provider, model, base_url, api_key_env, params, prices, timeout"


@pytest.mark.parametrize("source, message", [
    ("[1, 2]", "expected a mapping with 'models' and/or 'tools' at the top level"),
    ("models: []\nzzz: 2\nextra: 1", "unknown top-level key(s) extra, zzz"),
    ("models: {a: 1}", "'models' must be a list"),
    ("tools: 3", "'tools' must be a list"),
    ("models:\n  - 5", "models[0]: expected a mapping, got int"),
    ("models:\n  - " + ENTRY % "colour: red, api_key_envx: X",
     f"models[0] (a): unknown key(s) api_key_envx, colour ({MODEL_KEYS})"),
    ("models:\n  - " + ENTRY % "api_key: sk-abc",
     "models[0] (a): keys are not stored; put it in an environment variable and name it in api_key_env"),
    ("models:\n  - {name: '', provider: openai, model: m}", "models[0]: missing 'name'"),
    ("models:\n  - {name: a, model: m}", "models[0] (a): missing 'provider'"),
    ("models:\n  - {name: a, provider: openai}", "models[0] (a): missing 'model'"),
    ("models:\n  - {name: a, provider: openai, model: ''}", "models[0] (a): missing 'model'"),
    ("models:\n  - {name: [1], provider: openai, model: m}", "models[0] ([1]): 'name' must be a string"),
    ("models:\n  - {name: true, provider: openai, model: m}", "models[0] (True): 'name' must be a string"),
    ("models:\n  - {name: a, provider: gemini, model: m}",
     "models[0] (a): unknown provider kind 'gemini' (known: openai, openai-compatible, openai-responses, "
     "anthropic, simulator, ollama, llamacpp, vllm, lmstudio, ollama-native)"),
    ("models:\n  - " + ENTRY % "params: [1]", "models[0] (a): params must be a mapping, got list"),
    ("models:\n  - " + ENTRY % "params: {max_retries: -3}",
     "models[0] (a): params.max_retries must be a whole number from 0 to 20"),
    ("models:\n  - " + ENTRY % "prices: [1]", "models[0] (a): prices must be a mapping with input, cached_input, output"),
    ("models:\n  - " + ENTRY % "prices: {inputs: 1}",
     "models[0] (a): prices: unknown key(s) inputs (allowed: input, cached_input, output)"),
    ("models:\n  - " + ENTRY % "prices: {input: .nan}", "models[0] (a): prices.input must be a number (USD per million tokens)"),
    ("models:\n  - " + ENTRY % "prices: {input: .inf}", "models[0] (a): prices.input must be a number (USD per million tokens)"),
    ("models:\n  - " + ENTRY % "prices: {input: -0.5}", "models[0] (a): prices.input must not be negative"),
    ("models:\n  - " + ENTRY % "prices: {output: -1}", "models[0] (a): prices.output must not be negative"),
    ("models:\n  - " + ENTRY % "prices: {cached_input: -1}", "models[0] (a): prices.cached_input must not be negative"),
    ("models:\n  - " + ENTRY % "prices: {cached_input: true}",
     "models[0] (a): prices.cached_input must be a number (USD per million tokens)"),
    ("models:\n  - " + ENTRY % "prices: {output: '1'}", "models[0] (a): prices.output must be a number (USD per million tokens)"),
    ("models:\n  - " + ENTRY % ("prices: {input: " + "9" * 400 + "}"),
     "models[0] (a): prices.input must be a number (USD per million tokens)"),
    ("models:\n  - " + ENTRY % "timeout: 0", "models[0] (a): timeout must be a positive number of seconds"),
    ("models:\n  - " + ENTRY % "timeout: -1", "models[0] (a): timeout must be a positive number of seconds"),
    ("models:\n  - " + ENTRY % "timeout: .inf", "models[0] (a): timeout must be a positive number of seconds"),
    ("models:\n  - " + ENTRY % "timeout: '30'", "models[0] (a): timeout must be a positive number of seconds"),
    ("models:\n  - " + ENTRY % "api_key_env: 'bad name'",
     "models[0] (a): api_key_env: a variable NAME such as OPENAI_API_KEY (letters, digits, _), not the key itself"),
    ("models:\n  - " + ENTRY % "base_url: 'ftp://x'", "models[0] (a): base_url: must start with http:// or https://"),
    ("models:\n  - " + ENTRY % "base_url: [x]", "models[0] (a): 'base_url' must be a string"),
    ("models:\n  - {name: a, provider: openai, model: m}\n  - {name: b, provider: openai, model: m}\n"
     "  - {name: a, provider: openai, model: n}", "models: 'a' appears more than once"),
    ("tools:\n  - 1", "tools[0]: expected a mapping, got int"),
    ("tools:\n  - {name: t, descr: x}", "tools[0] (t): unknown key(s) descr (allowed: name, description, parameters, result)"),
    ("tools:\n  - {description: x}", "tools[0]: missing 'name'"),
    ("tools:\n  - {name: t, description: [x]}", "tools[0] (t): 'description' must be a string"),
    ("tools:\n  - {name: 'bad name'}", "tools[0] (bad name): invalid tool name 'bad name': use 1-64 letters, digits, '_' or '-'"),
    ("tools:\n  - {name: t, parameters: {type: string}}",
     "tools[0] (t): parameters must be an object schema (\"type\": \"object\"), got \"type\": 'string'"),
    ("tools:\n  - {name: t}\n  - {name: t}", "tools: 't' appears more than once"),
])  # fmt: skip
def test_a_refused_entry_is_named_in_one_message(source, message):
    with pytest.raises(ConfigError) as refused:
        parse_config(source, origin="f.yaml")
    assert str(refused.value) == f"f.yaml: {message}"


def test_the_origin_defaults_to_config():
    with pytest.raises(ConfigError, match=r"^config: 'tools' must be a list$"):
        parse_config("tools: 3")


def test_an_empty_file_or_empty_lists_hold_nothing():
    for source in ("", "# only a comment\n", "models:\ntools:\n", "models: []\ntools: []\n"):
        config = parse_config(source)
        assert config.models == [] and config.tools == []


def test_invalid_yaml_is_refused_with_the_file_named():
    with pytest.raises(ConfigError) as refused:
        parse_config("models: [", origin="f.yaml")
    assert str(refused.value).startswith("f.yaml: not valid YAML")


def test_every_field_of_an_accepted_model_is_kept_as_written():
    (model,) = parse_config(
        "models:\n"
        "  - name: gpt\n    provider: openai-compatible\n    model: gpt-4o\n"
        "    base_url: https://proxy.example/v1\n    api_key_env: PROXY_KEY\n"
        "    params: {temperature: 0.2}\n    prices: {input: 2, cached_input: 0, output: 8.5}\n    timeout: 30\n"
    ).models
    assert (model.name, model.provider, model.model) == ("gpt", "openai-compatible", "gpt-4o")
    assert (model.base_url, model.api_key_env, model.params) == ("https://proxy.example/v1", "PROXY_KEY", {"temperature": 0.2})
    assert (model.price_input, model.price_cached_input, model.price_output) == (2.0, 0.0, 8.5)
    assert model.timeout == 30.0 and isinstance(model.timeout, float) and isinstance(model.price_input, float)


def test_a_minimal_model_has_no_prices_no_timeout_and_numbers_for_names():
    (model,) = parse_config("models:\n  - {name: 7, provider: simulator, model: 3.5, base_url: '', api_key_env: ''}").models
    assert (model.name, model.model) == ("7", "3.5")
    assert (model.base_url, model.api_key_env, model.params, model.timeout) == (None, None, {}, None)
    assert (model.price_input, model.price_cached_input, model.price_output) == (0.0, None, 0.0)


def test_a_tool_defaults_to_an_empty_object_schema_and_a_mapping_result_is_its_json():
    plain, canned, text = parse_config(
        "tools:\n"
        "  - {name: plain}\n"
        "  - {name: canned, description: Weather, parameters: {type: object, properties: {city: {type: string}}},"
        " result: {temp_c: 21, sky: 'clear ☀'}}\n"
        "  - {name: text, result: 'sunny'}\n"
    ).tools
    assert (plain.name, plain.description, plain.parameters, plain.canned_result) == (
        "plain", "", {"type": "object", "properties": {}}, None)
    assert canned.description == "Weather"
    assert canned.parameters == {"type": "object", "properties": {"city": {"type": "string"}}}
    assert canned.canned_result == '{"temp_c": 21, "sky": "clear ☀"}'
    assert text.canned_result == "sunny"


def test_a_model_exports_only_what_was_set():
    (bare, full) = parse_config(
        "models:\n"
        "  - {name: bare, provider: simulator, model: echo}\n"
        "  - {name: full, provider: openai, model: m, base_url: 'http://127.0.0.1:9/v1', api_key_env: K,"
        " params: {seed: 1}, prices: {input: 1.5, cached_input: 0, output: 3}, timeout: 9}\n"
    ).models
    assert model_to_dict(bare) == {"name": "bare", "provider": "simulator", "model": "echo"}
    assert model_to_dict(full) == {
        "name": "full", "provider": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "K",
        "params": {"seed": 1}, "prices": {"input": 1.5, "cached_input": 0.0, "output": 3.0}, "timeout": 9.0,
    }  # fmt: skip
    (output_only,) = parse_config("models:\n  - {name: o, provider: openai, model: m, prices: {output: 2}}").models
    assert model_to_dict(output_only)["prices"] == {"output": 2.0}


def test_a_tool_exports_its_schema_and_only_a_set_description_or_result():
    plain, full = parse_config(
        "tools:\n  - {name: plain}\n  - {name: full, description: D, result: '{}'}\n"
    ).tools
    assert tool_to_dict(plain) == {"name": "plain", "parameters": {"type": "object", "properties": {}}}
    assert tool_to_dict(full) == {
        "name": "full", "description": "D", "parameters": {"type": "object", "properties": {}}, "result": "{}",
    }  # fmt: skip


def test_an_import_counts_what_it_added_and_updated_and_an_export_reads_back_the_same(store):
    source = (
        "models:\n"
        "  - {name: mine, provider: anthropic, model: claude, api_key_env: ANTHROPIC_API_KEY, prices: {input: 3}}\n"
        "  - {name: demo-fast, provider: simulator, model: echo}\n"
        "tools:\n  - {name: lookup, description: Find ü, result: {found: true}}\n"
    )
    import_config(store, parse_config("models:\n  - {name: demo-fast, provider: simulator, model: slow}\n"))
    report = import_config(store, parse_config(source))
    assert (report.models_added, report.models_updated, report.tools_added, report.tools_updated) == (1, 1, 1, 0)
    assert report.summary() == "models: 1 added, 1 updated; tools: 1 added, 0 updated"

    exported = yaml.safe_load(export_config(store))
    assert {"name": "mine", "provider": "anthropic", "model": "claude", "api_key_env": "ANTHROPIC_API_KEY",
            "prices": {"input": 3.0}} in exported["models"]  # fmt: skip
    assert {"name": "lookup", "description": "Find ü", "parameters": {"type": "object", "properties": {}},
            "result": '{"found": true}'} in exported["tools"]  # fmt: skip
    assert "Find ü" in export_config(store)  # written as the character, not an escape
    reread = parse_config(export_config(store))
    assert [model_to_dict(m) for m in reread.models] == exported["models"]


def test_an_export_with_no_tools_has_no_tools_key(store):
    for tool in store.list_tools():
        store.remove_tool(tool.name)
    assert "tools" not in yaml.safe_load(export_config(store))


def test_a_report_without_tools_names_only_models():
    assert ImportReport(models_added=2, models_updated=1).summary() == "models: 2 added, 1 updated"
    assert ImportReport(tools_updated=1).summary() == "models: 0 added, 0 updated; tools: 0 added, 1 updated"
    assert ImportReport(tools_added=1).summary() == "models: 0 added, 0 updated; tools: 1 added, 0 updated"


def test_a_file_is_read_as_utf8_and_its_path_names_every_refusal(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("models:\n  - {name: é, provider: simulator, model: echo}\n", encoding="utf-8")
    assert [m.name for m in load_config_file(str(good)).models] == ["é"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("tools: 3\n")
    with pytest.raises(ConfigError, match=rf"^{bad}: 'tools' must be a list$"):
        load_config_file(bad)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"models: []\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=rf"^{latin}: not UTF-8 text \(byte 0xe9 at offset 16\)$"):
        load_config_file(latin)
    with pytest.raises(ConfigError, match=rf"^{tmp_path / 'nope.yaml'}: cannot read: No such file or directory$"):
        load_config_file(tmp_path / "nope.yaml")


def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(tmp_path):
    at_limit = tmp_path / "at.yaml"
    at_limit.write_bytes(b"#" * 999_999 + b"\n")
    assert load_config_file(at_limit).models == []
    over = tmp_path / "over.yaml"
    over.write_bytes(b"#" * 1_000_000 + b"\n")
    with pytest.raises(ConfigError, match=rf"^{over}: larger than 1 MB; not a config file$"):
        load_config_file(over)


def test_an_endless_pipe_is_refused_after_the_limit_without_reading_to_its_end(tmp_path):
    # `llmwb models import <(yes)`: the writer never ends; the import must not wait for it.
    import os
    import threading

    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    done, gave_up = threading.Event(), threading.Event()

    def write() -> None:
        with open(fifo, "wb") as pipe:
            try:
                pipe.write(b"#" * 2_000_000)
            except BrokenPipeError:
                return  # the reader took what it wanted and closed: as it should
            if not done.wait(30):
                gave_up.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with pytest.raises(ConfigError, match=r"larger than 1 MB; not a config file$"):
        load_config_file(fifo)
    done.set()
    writer.join(60)
    assert not gave_up.is_set()


def test_one_entry_alone_is_named_model_or_by_the_name_it_is_added_as():
    from core.config_yaml import model_from_dict

    with pytest.raises(ConfigError, match=r"^model: expected a mapping, got int$"):
        model_from_dict(5)
    with pytest.raises(ConfigError, match=r"^model \(x\): missing 'provider'$"):
        model_from_dict({"name": "x", "model": "m"})
    # `llmwb models add x …` names the entry x: not "x (x)"
    with pytest.raises(ConfigError, match=r"^x: prices.output must not be negative$"):
        model_from_dict({"name": "x", "provider": "openai", "model": "m", "prices": {"output": -1}}, where="x")


def test_an_export_is_block_yaml_in_the_entry_s_own_key_order_and_updates_are_counted(store):
    import_config(store, parse_config("tools:\n  - {name: zeta}\n"))
    report = import_config(store, parse_config(
        "models:\n  - {name: m1, provider: openai, model: x, timeout: 0.5, api_key_env: K}\n"
        "tools:\n  - {name: zeta, description: again}\n  - {name: alpha}\n"))  # fmt: skip
    assert (report.tools_added, report.tools_updated) == (1, 1)
    text = export_config(store)
    assert "parameters:\n    type: object\n" in text and "\n- name: m1\n  provider: openai\n  model: x\n  api_key_env: K\n  timeout: 0.5\n" in text
    assert text.index("models:") < text.index("tools:")


def test_a_key_variable_that_is_not_a_string_names_its_entry():
    with pytest.raises(ConfigError, match=r"^f.yaml: models\[0\] \(a\): 'api_key_env' must be a string$"):
        parse_config("models:\n  - " + ENTRY % "api_key_env: [K]", origin="f.yaml")
