"""The workbench as a user drives it: run, cancel, bad input, faults, copy, history, keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest
from textual import events
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Collapsible, Footer, TextArea
from textual.widgets._footer import FooterKey

from core.events import ReasoningDelta, TextDelta
from core.request import ChatRequest
from core.simulator import SimulatorServer, scenario_from_dict
from core.store.models import ModelConfig, Run
from output_host import open_history, wait_until
from tui.app import LlmwbApp, StartingScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen, collect_bindings
from tui.screens.main import MainScreen
from tui.widgets.models.model_form import ModelFormScreen

SIZE = (140, 44)
RUN_TIMEOUT = 20.0  # an upper bound for a failing test, never a synchronisation


def main_screen(app: LlmwbApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen)
    return app.screen


async def select_model(pilot: Pilot, name: str) -> MainScreen:
    screen = main_screen(pilot.app)  # type: ignore[arg-type]
    screen.models.reload(select=name)
    await wait_until(pilot, lambda: (c := screen.models.selected_config) is not None and c.name == name)
    return screen


async def run_to_end(pilot: Pilot) -> MainScreen:
    screen = main_screen(pilot.app)  # type: ignore[arg-type]
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: screen.running or screen.output.status != "idle", timeout=RUN_TIMEOUT)
    await wait_until(
        pilot, lambda: not screen.running and screen.output.status in ("ok", "error", "cancelled"), timeout=RUN_TIMEOUT
    )
    return screen


def notifications(app: LlmwbApp) -> list[str]:
    return [n.message for n in app._notifications]


def saved_runs(app: LlmwbApp) -> list[Run]:
    return app.store.list_runs()


async def test_run_on_demo_fast_shows_text_and_metrics(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await select_model(pilot, "demo-fast")
        screen = await run_to_end(pilot)
        assert screen.output.status == "ok"
        assert screen.output.text.startswith("Streaming lets a client show an answer")
        assert screen.metrics.final_metrics is not None
        assert screen.metrics.final_metrics["ttft_ms"] > 0
        assert screen.metrics.final_metrics["completion_tokens"] > 0
        [run] = saved_runs(app)
        assert (run.status, run.model_config_name) == ("ok", "demo-fast")


async def test_run_key_is_ignored_while_a_run_is_going(
    app_factory: Callable[..., LlmwbApp], simulator: SimulatorServer
) -> None:
    stalled = _stalling_config(simulator)
    app = app_factory()
    app.store.save_config(stalled)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, stalled.name)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: _content_frames(simulator) >= 4, timeout=RUN_TIMEOUT)
        await pilot.press("ctrl+r")
        assert any("ctrl+g cancels" in message for message in notifications(app))
        assert len(saved_runs(app)) == 1
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: not screen.running, timeout=RUN_TIMEOUT)


def _stalling_config(simulator: SimulatorServer) -> ModelConfig:
    """A scenario that sends four words and then stalls far longer than any test runs."""
    simulator.add_scenario(
        scenario_from_dict(
            {
                "name": "stall-long",
                "text": "One two three four five six seven eight.",
                "chunking": {"mode": "word"},
                "timing": {"first_token_ms": 5, "gap_ms": 1},
                "fault": {"stall_after_chunks": 4, "stall_s": 60},
            }
        )
    )
    return ModelConfig(
        name="stall-long", provider="simulator", model="stall-long", base_url=simulator.root_url + "/v1",
        params={"max_retries": 0},
    )  # fmt: skip


def _content_frames(simulator: SimulatorServer) -> int:
    return sum(exchange.content_frames for exchange in simulator.exchanges)


async def test_cancel_mid_stream_keeps_partial_output_and_saves_cancelled(
    app_factory: Callable[..., LlmwbApp], simulator: SimulatorServer
) -> None:
    stalled = _stalling_config(simulator)
    app = app_factory()
    app.store.save_config(stalled)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, stalled.name)
        await pilot.press("ctrl+r")
        # The server has sent its four words and is stalling; the client has them once they are shown.
        await wait_until(pilot, lambda: _content_frames(simulator) >= 4, timeout=RUN_TIMEOUT)
        await wait_until(pilot, lambda: "four" in screen.output.text, timeout=RUN_TIMEOUT)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: screen.output.status == "cancelled", timeout=RUN_TIMEOUT)
        assert not screen.running
        assert screen.output.text.startswith("One two three four")
        final = screen.output.final_json
        assert final is not None and final["status"] == "cancelled"
        [run] = saved_runs(app)
        assert run.status == "cancelled"
        assert run.response["content"].startswith("One two three four")
        # Still usable: the next run works.
        await select_model(pilot, "echo")
        await run_to_end(pilot)
        assert screen.output.status == "ok"


async def test_a_run_that_cannot_start_says_why_and_the_app_stays(
    app_factory: Callable[..., LlmwbApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run starts in the key's handler: a failure there (no reader process could be
    started) is a message on screen, not a crashed app, and the next ctrl+r runs."""
    import tui.screens.main as main_module

    real_start = main_module.start_app_run

    def no_reader(*args: object, **kwargs: object) -> None:
        raise OSError("[Errno 11] Resource temporarily unavailable (fork)")

    monkeypatch.setattr(main_module, "start_app_run", no_reader)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, "echo")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: any("Cannot start the run" in m and "fork" in m for m in notifications(app)))
        assert not screen.running
        monkeypatch.setattr(main_module, "start_app_run", real_start)
        await run_to_end(pilot)
        assert screen.output.status == "ok"


async def test_ctrl_g_right_behind_ctrl_r_cancels_the_run_and_the_screen_runs_again(
    app_factory: Callable[..., LlmwbApp], simulator: SimulatorServer
) -> None:
    """Keys typed fast (or over SSH) arrive in one read: ctrl+g handled before the run's
    follower has started still cancels the run, and the screen is free for the next one."""
    stalled = _stalling_config(simulator)
    app = app_factory()
    app.store.save_config(stalled)
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, stalled.name)
        for key in ("ctrl+r", "ctrl+g"):  # queued before either is handled
            app.post_message(events.Key(key, None))
        await wait_until(pilot, lambda: screen.output.status == "cancelled", timeout=RUN_TIMEOUT)
        await wait_until(pilot, lambda: not screen.running, timeout=RUN_TIMEOUT)
        [run] = saved_runs(app)
        assert run.status == "cancelled"
        await select_model(pilot, "echo")
        await run_to_end(pilot)
        assert screen.output.status == "ok"


async def test_invalid_params_json_is_a_message_and_the_app_stays_usable(
    app_factory: Callable[..., LlmwbApp],
) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, "echo")
        await pilot.press("f4")
        extra = screen.query_one("#extra-json", TextArea)
        extra.focus()
        await pilot.press(*'{"presence_penalty": ')
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert any("params JSON" in message for message in notifications(app))
        assert extra.has_class("-invalid")
        assert saved_runs(app) == []
        await pilot.press("0", ".", "5", "}")
        assert not extra.has_class("-invalid")
        await run_to_end(pilot)
        [run] = saved_runs(app)
        assert run.request["params"] == {"presence_penalty": 0.5}


async def test_no_model_selected_is_a_message(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    for config in app.store.list_configs():
        app.store.remove_config(config.name)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert any("No model selected" in message for message in notifications(app))
        assert saved_runs(app) == []


@pytest.mark.parametrize(
    ("scenario", "error_type", "partial"),
    [("fault-429", "rate_limit", ""), ("demo-flaky", "stream_cut", "x")],
)
async def test_provider_faults_are_shown_in_place_with_partial_output(
    app_factory: Callable[..., LlmwbApp], scenario: str, error_type: str, partial: str
) -> None:
    app = app_factory()
    app.store.save_config(
        ModelConfig(name=f"t-{scenario}", provider="simulator", model=scenario, params={"max_retries": 0})
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, f"t-{scenario}")
        await run_to_end(pilot)
        assert screen.output.status == "error"
        final = screen.output.final_json
        assert final is not None and final["error_type"] == error_type
        if partial:  # demo-flaky cuts the stream after 8 chunks: what came is kept
            assert screen.output.text and final["partial_response"]["content"] == screen.output.text
        [run] = saved_runs(app)
        assert (run.status, run.error_type) == ("error", error_type)


async def test_missing_key_is_shown_in_place(app_factory: Callable[..., LlmwbApp], monkeypatch) -> None:
    monkeypatch.delenv("LLMWB_TEST_ABSENT_KEY", raising=False)
    app = app_factory()
    app.store.save_config(
        ModelConfig(name="needs-key", provider="openai", model="gpt-4o-mini", api_key_env="LLMWB_TEST_ABSENT_KEY")
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, "needs-key")
        await run_to_end(pilot)
        final = screen.output.final_json
        assert final is not None and final["error_type"] == "missing_key"
        assert "LLMWB_TEST_ABSENT_KEY" in final["error"]


async def test_copy_text_json_and_curl(app_factory: Callable[..., LlmwbApp], monkeypatch) -> None:
    monkeypatch.setenv("LLMWB_TEST_KEY", "sk-test-very-secret-123")
    app = app_factory()
    app.store.save_config(
        ModelConfig(name="openai-ish", provider="openai", model="gpt-4o-mini", api_key_env="LLMWB_TEST_KEY")
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, "echo")
        await run_to_end(pilot)
        await pilot.press("f9", "t")
        assert app.clipboard == screen.output.text
        await pilot.press("f9", "j")
        copied = json.loads(app.clipboard)
        assert copied["done"] is True and copied["final_response"]["content"] == screen.output.text

        await select_model(pilot, "openai-ish")
        await pilot.press("f9", "c")
        curl = app.clipboard
        assert curl.startswith("curl -N https://api.openai.com/v1/chat/completions")
        assert '-H "Authorization: Bearer $LLMWB_TEST_KEY"' in curl
        assert "sk-test-very-secret-123" not in curl


async def test_nothing_to_copy_before_a_run(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f9")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CopyMenu")
        await pilot.press("j")
        await wait_until(pilot, lambda: any("Nothing to copy" in message for message in notifications(app)))
        assert app.clipboard == ""


async def test_history_reopens_a_run_and_loads_its_prompt(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    app.store.save_config(ModelConfig(name="echo-2", provider="simulator", model="echo"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await select_model(pilot, "echo")
        screen.editor.load_request(ChatRequest.from_prompt("the first prompt"))
        await run_to_end(pilot)
        assert screen.output.text == "the first prompt"
        [first] = saved_runs(app)

        screen.editor.load_request(ChatRequest.from_prompt("something else entirely"))
        await select_model(pilot, "echo-2")
        await run_to_end(pilot)
        assert screen.output.text == "something else entirely"

        await open_history(pilot, runs=2)
        await pilot.press("down", "enter")  # newest first: the first run is second
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and screen.output.text == "the first prompt")
        assert screen.metrics.final_metrics == first.metrics
        assert screen.sub_title == "echo-2"  # the header keeps naming the model ctrl+r runs

        await open_history(pilot, runs=2)
        await pilot.press("down", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # a typed prompt would be lost
        await pilot.press("y")
        await wait_until(pilot, lambda: (c := screen.models.selected_config) is not None and c.name == "echo")
        assert screen.editor.build_request().last_user_text == "the first prompt"


async def test_last_prompt_is_restored_on_the_next_start(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        prompt = screen.query_one("#prompt", TextArea)
        prompt.load_text("")
        prompt.focus()
        await pilot.press(*"hello again")
        screen.query_one("#param-temperature").value = "0.3"  # type: ignore[attr-defined]
        await pilot.pause()
    restarted = app_factory()
    async with restarted.run_test(size=SIZE) as pilot:
        await pilot.pause()
        request = main_screen(restarted).editor.build_request()
        assert request.last_user_text == "hello again"
        assert request.params == {"temperature": 0.3}


async def test_help_lists_keys_grouped_by_pane(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(str(static.render()) for static in app.screen.query(".help-group"))
        for expected in ("Workbench", "Run", "Cancel", "History", "Models", "Params", "Reasoning", "Quit"):
            assert expected in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_panes_toggle_and_focus_leaves_a_hidden_pane(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        screen.models.focus()
        await pilot.press("f2")
        assert not screen.models.display or screen.models.styles.display == "none"
        assert screen.focused is screen.query_one("#prompt")
        await pilot.press("f3")
        assert screen.metrics.styles.display == "none"
        await pilot.press("f2", "f3")
        assert screen.models.styles.display == "block" and screen.metrics.styles.display == "block"


async def test_palette_offers_every_workbench_action(app_factory: Callable[..., LlmwbApp]) -> None:
    from tui.commands import WorkbenchCommands

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        provider = WorkbenchCommands(app.screen)
        names = [hit.text async for hit in provider.discover()]
        for expected in ("Run prompt", "Cancel run", "Copy request as curl", "History", "Compare models", "Add model"):
            assert expected in names
        hits = [hit async for hit in provider.search("curl")]
        assert hits and "curl" in str(hits[0].match_display).lower()


async def test_llmwb_start_paints_first_then_opens_the_store(tmp_path: Path, monkeypatch) -> None:
    """What bare `llmwb` does: a start screen at once, the main screen when the database is open."""
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    app = LlmwbApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), timeout=RUN_TIMEOUT)
        assert app.data_dir == tmp_path
        assert {c.name for c in app.store.list_configs()} >= {"demo-fast", "demo-claude"}


async def test_a_database_that_cannot_open_is_a_message(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "llmwb.db").write_text("this is not a database")
    monkeypatch.setenv("LLMWB_HOME", str(home))
    app = LlmwbApp()
    async with app.run_test(size=SIZE) as pilot:
        starting = app.screen
        assert isinstance(starting, StartingScreen)
        await wait_until(pilot, lambda: "could not start" in str(starting.query_one("#starting").render()))



async def test_at_80x24_the_model_list_starts_hidden_and_f2_shows_it(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        assert not screen.models.display
        assert screen.sub_title  # the header names the selected model
        prompt = screen.query_one("#prompt")
        assert prompt.region.height >= 5 and prompt.region.width >= 45
        await pilot.press("f2")
        await pilot.pause()
        assert screen.models.display
        await pilot.press("f2")
        await pilot.pause()
        assert not screen.models.display


async def test_output_keys_work_while_typing_in_the_prompt(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        prompt = screen.query_one("#prompt", TextArea)
        typed = prompt.text
        assert screen.focused is prompt
        screen.output.begin_run("r1", "scripted", True)
        screen.output.feed(ReasoningDelta("Check the small primes first."))
        screen.output.feed(TextDelta("No: 391 = 17 × 23."))
        reasoning = screen.output.query_one("#reasoning", Collapsible)
        await wait_until(pilot, lambda: reasoning.display and reasoning.collapsed)  # folded once the answer began

        await pilot.press("ctrl+f")
        assert not reasoning.collapsed
        await pilot.press("ctrl+f")
        assert reasoning.collapsed
        await pilot.press("ctrl+n")
        assert screen.output.view == "plain"
        await pilot.press("ctrl+n")
        assert screen.output.view == "wire"
        assert prompt.text == typed and screen.focused is prompt  # nothing typed, focus kept


async def test_f4_folds_the_params_from_any_pane(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        params = screen.query_one("#params", Collapsible)
        screen.models.focus()
        await pilot.press("f4")
        assert not params.collapsed
        await pilot.press("f4")
        assert params.collapsed


async def test_the_model_form_leaves_the_main_screen_layout_alone(app_factory: Callable[..., LlmwbApp]) -> None:
    """The form's stylesheet once leaked `#params { height: 6 }` onto the prompt editor."""
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await pilot.pause()
        before = screen.editor.region, screen.output.region
        screen.models.focus()
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelFormScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert (screen.editor.region, screen.output.region) == before
        assert screen.query_one("#params", Collapsible).region.height == 1


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_footer_fits_and_shows_only_keys_the_help_lists(
    app_factory: Callable[..., LlmwbApp], size: tuple[int, int]
) -> None:
    app = app_factory()
    async with app.run_test(size=size) as pilot:
        screen = main_screen(app)
        footer = screen.query_one(Footer)
        help_keys = {key for _, entries in collect_bindings(screen) for keys, _ in entries for key in keys.split(", ")}
        panes = [screen.editor.focus_prompt, screen.models.focus] if screen.models.display else [screen.editor.focus_prompt]
        for focus in panes:
            focus()
            await wait_until(pilot, lambda: bool(footer.query(FooterKey)))
            await pilot.pause()
            keys = list(footer.query(FooterKey))
            shown = [key.key_display for key in keys]
            assert "^r" in shown and "f1" in shown and "f2" in shown
            assert set(shown) <= help_keys
            palette = [key.region.x for key in keys if key.has_class("-command-palette")]
            room = palette[0] if palette else size[0]
            # Every key and its description on screen (a trailing blank may sit under the palette's divider).
            assert max(key.region.right for key in keys if not key.has_class("-command-palette")) <= room + 1, shown


async def test_help_scrolls_on_a_small_terminal(app_factory: Callable[..., LlmwbApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one(VerticalScroll)
        await pilot.pause()
        assert box.max_scroll_y > 0
        await pilot.press("end")
        assert box.scroll_y == box.max_scroll_y


async def test_palette_offers_the_compare_screens_actions(app_factory: Callable[..., LlmwbApp]) -> None:
    from tui.commands import screen_commands
    from tui.screens.compare_models import ModelsCompareScreen
    from tui.screens.compare_stream import StreamCompareScreen

    app = app_factory()
    echo = app.store.get_config("echo")
    assert echo is not None
    request = ChatRequest.from_prompt("hello")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        models = ModelsCompareScreen(request, [echo, echo])
        await app.push_screen(models)
        await wait_until(pilot, lambda: len(models.columns) == 2 and all(c.status == "ok" for c in models.columns))
        commands = {name: callback for name, _, callback in screen_commands(models)}
        assert {"Re-run all models", "Sort the summary", "Back to the workbench"} <= set(commands)
        column = models.columns[0]
        column.focus()
        commands = {name: callback for name, _, callback in screen_commands(models)}
        await commands["Switch column stream/non-stream"]()
        await pilot.pause()
        assert column.stream is False
        await pilot.press("escape")

        stream = StreamCompareScreen(echo, request)
        await app.push_screen(stream)
        await pilot.pause()
        commands = {name: callback for name, _, callback in screen_commands(stream)}
        assert {"Re-run stream vs non-stream", "Back to the workbench"} <= set(commands)
        await commands["Toggle sequential/concurrent"]()
        await pilot.pause()
        assert stream.concurrent is True
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_copy_as_curl_of_a_request_the_adapter_refuses_says_why_and_keeps_the_app(
    app_factory: Callable[..., LlmwbApp],
) -> None:
    app = app_factory()
    # demo-claude speaks the Anthropic protocol, which has no frequency_penalty.
    app.store.save_config(
        ModelConfig(name="claude-odd", provider="simulator", model="demo-claude", params={"frequency_penalty": 0.5})
    )
    async with app.run_test(size=SIZE) as pilot:
        await select_model(pilot, "claude-odd")
        await pilot.press("f9")
        # The menu's keys work once it is the active screen: a key sent earlier goes elsewhere.
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CopyMenu")
        await pilot.press("c")
        # Resolving the config starts the embedded simulator: slow on a loaded machine.
        await wait_until(pilot, lambda: any("frequency_penalty" in text for text in notifications(app)), RUN_TIMEOUT)
        assert app.is_running and app.return_code is None
