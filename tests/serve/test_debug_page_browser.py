"""The debug page in a real headless Chromium against a live `llmwb serve`: a prompt
typed and sent with the mouse, the answer seen while it is still streaming, the
final metrics filled in, a bad params box refused. Screenshots are kept in
test-artifacts/ (git-ignored) and the test's tmp dir."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from browser import Browser, Chromium, find_browser
from serve_support import LiveProcess, ThreadedSimulator, client, wait_for_status
from waiting import poll

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
STEP_TIMEOUT_S = 60.0

READ_PAGE = """JSON.stringify({
  answer: document.querySelector('#answer').textContent,
  status: document.querySelector('#status').textContent,
  error: document.querySelector('#error').hidden ? null : document.querySelector('#error').textContent,
  paramsError: document.querySelector('#params-error').hidden ? null : document.querySelector('#params-error').textContent,
  metrics: Object.fromEntries([...document.querySelectorAll('#metrics dd')].map(d => [d.dataset.metric, d.textContent])),
  raw: document.querySelector('#raw').textContent,
  models: document.querySelectorAll('#model option[data-name]').length,
})"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    executable = find_browser()
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    profile.mkdir()
    running = Chromium(executable, profile)
    yield running
    running.close()


@pytest.fixture
def browser(chromium: Chromium) -> Iterator[Browser]:
    tab = chromium.tab()
    yield tab
    tab.close()


def read(browser: Browser) -> dict:
    return json.loads(browser.evaluate(READ_PAGE))


def read_when(browser: Browser, ready: Callable[[dict], bool], what: str) -> dict:
    """The page's state, read in one go, once `ready` holds for it."""

    def check() -> dict | None:
        page = read(browser)
        return page if ready(page) else None

    return poll(check, what, STEP_TIMEOUT_S)


def pick_model(browser: Browser, name: str) -> None:
    browser.evaluate(
        "(() => { const s = document.querySelector('#model');"
        f" s.value = [...s.options].find(o => o.dataset.name === {json.dumps(name)}).value;"
        " s.dispatchEvent(new Event('change')); })()"
    )


def open_page(browser: Browser, live: LiveProcess, path: str = "/") -> None:
    browser.open(live.url + path)
    poll(lambda: browser.evaluate("document.readyState") == "complete" and read(browser)["models"], "the model list", STEP_TIMEOUT_S)


def test_an_answer_streams_into_the_page_and_the_metrics_fill_in(browser: Browser, live: LiveProcess, sim: ThreadedSimulator, tmp_path: Path) -> None:
    open_page(browser, live)
    pick_model(browser, "sim-stalling")
    browser.type_into("#prompt", "Count for me")
    browser.click("#send")

    # The simulator stalls after three words: the page must show them before the rest exists.
    partial = read_when(browser, lambda page: "word2" in page["answer"], "the first words")
    browser.screenshot(ARTIFACTS / "debug-page-streaming.png", tmp_path / "debug-page-streaming.png")
    (exchange,) = sim.exchanges("stalling")
    assert "word11" not in partial["answer"] and partial["answer"].startswith("word0 word1 word2")
    assert partial["status"].startswith("Streaming")
    # Live figures are llmwb's stamps (the final metrics come later): TTFT is already there.
    assert partial["metrics"]["ttft"].endswith(" ms") and partial["metrics"]["total"].startswith("last chunk at ")
    assert partial["metrics"]["tokens"] == "—" and partial["metrics"]["run"] == "—"

    # The status turns "Done." on the final event; the stream's `[DONE]` line follows it.
    done = read_when(
        browser, lambda page: page["status"].startswith(("Done", "Failed")) and page["raw"].rstrip().endswith("[DONE]"),
        "the end of the run and its [DONE] line",
    )
    browser.screenshot(ARTIFACTS / "debug-page.png", tmp_path / "debug-page.png")
    sim.wait_finished(exchange)
    assert done["error"] is None and done["status"] == "Done."
    assert done["answer"].split() == [f"word{i}" for i in range(12)]
    metrics = done["metrics"]
    assert metrics["ttft"].endswith("ms") and metrics["total"].endswith(("ms", " s"))
    assert metrics["tps"].endswith("tok/s") and " in / " in metrics["tokens"] and metrics["cost"].startswith("$")
    assert metrics["chunks"] == "12" and metrics["finish"] == "stop"
    raw_lines = done["raw"].splitlines()
    assert raw_lines[-1] == "data: [DONE]" and sum(1 for line in raw_lines if line.startswith('data: {"content"')) == 12

    with client() as http:  # the page's figures are the saved run's
        saved = http.get(f"{live.url}/api/runs/{metrics['run']}").json()
    assert saved["status"] == "ok" and saved["metrics"]["chunks"] == 12
    assert metrics["ttft"] == f"{saved['metrics']['ttft_ms']:.0f} ms" == partial["metrics"]["ttft"]  # live = final


def test_params_that_are_not_a_json_object_are_refused_before_sending(browser: Browser, live: LiveProcess) -> None:
    open_page(browser, live, "/pages/debug.html")
    pick_model(browser, "echo")
    browser.type_into("#prompt", "hello")
    with client() as http:
        before = len(http.get(live.url + "/api/runs?limit=1000").json())
        for params, words in (('{"temperature": 0.2', "not valid JSON"), ("[1, 2]", "must be a JSON object")):
            browser.type_into("#params", params)
            browser.click("#send")
            page = read_when(browser, lambda page: bool(page["paramsError"]), "the params message")
            assert words in page["paramsError"]
            assert page["answer"] == "" and page["status"] == "Ready."
        after = len(http.get(live.url + "/api/runs?limit=1000").json())
    assert after == before


def test_stop_hangs_up_and_the_run_is_saved_as_cancelled(browser: Browser, live: LiveProcess, sim: ThreadedSimulator) -> None:
    open_page(browser, live)
    pick_model(browser, "sim-hang")
    browser.type_into("#prompt", "Never finishes")
    browser.click("#send")
    read_when(browser, lambda page: "word2" in page["answer"], "the first words")
    browser.click("#stop")
    stopped = read_when(browser, lambda page: page["status"].startswith("Stopped"), "the stop")
    (exchange,) = sim.exchanges("hang")
    sim.wait_finished(exchange)
    with client() as http:
        run_id = next(r["id"] for r in http.get(live.url + "/api/runs?limit=50").json() if r["model_config"] == "sim-hang")
        run = wait_for_status(http, live.url, run_id)
    assert run["status"] == "cancelled" and run["response"]["content"] == stopped["answer"]


def test_a_failing_run_shows_its_error_under_what_arrived(browser: Browser, live: LiveProcess) -> None:
    open_page(browser, live)
    pick_model(browser, "demo-flaky")  # its stream is cut after 8 chunks
    browser.type_into("#prompt", "hi")
    browser.click("#send")
    page = read_when(browser, lambda page: page["status"].startswith(("Done", "Failed")), "the end of the run")
    assert page["status"].startswith("Failed") and page["error"]
    assert page["answer"]  # the text before the cut stays on the page
    assert page["metrics"]["run"] != "—"
