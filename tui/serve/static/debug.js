// The debug page: one request to POST /api/debug/chat, its answer drawn as it arrives.
// Figures come from llmwb's own stamps, taken where the bytes arrived: live from each
// delta's `offset_ms` (asked for with ?offsets=true), then the run's final metrics.
// Nothing is timed here: the browser only sees when the relay handed the text over.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "llmwb-token";
const MODEL_KEY = "llmwb-debug-model";
let controller = null;

class InputError extends Error {}

function authHeaders(extra = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: authHeaders(init.headers) });
  if (response.status === 401) $("token-box").hidden = false;
  return response;
}

async function errorText(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && body.error) return `HTTP ${response.status}: ${body.error}`;
  } catch (_) { /* not JSON: show the text itself */ }
  return `HTTP ${response.status}: ${text.slice(0, 500) || response.statusText}`;
}

// models -----------------------------------------------------------------------
async function loadModels() {
  const select = $("model");
  try {
    const response = await api("/api/models");
    if (!response.ok) throw new Error(await errorText(response));
    const models = await response.json();
    select.replaceChildren(...models.map((m) => {
      const option = new Option(`${m.name} — ${m.provider}, ${m.model}${m.key_status === "missing" ? " (key missing)" : ""}`, m.id);
      option.dataset.name = m.name;
      option.dataset.key = m.key_status;
      return option;
    }));
    if (!models.length) select.append(new Option("no model configs: add one with 'llmwb models add'", ""));
    const remembered = localStorage.getItem(MODEL_KEY);
    if (remembered && [...select.options].some((o) => o.dataset.name === remembered)) {
      select.value = [...select.options].find((o) => o.dataset.name === remembered).value;
    }
    describeModel();
  } catch (error) {
    select.replaceChildren(new Option("could not load the models", ""));
    view.error(`Could not load the models: ${error.message}`);
  }
}

function describeModel() {
  const option = $("model").selectedOptions[0];
  $("model-note").textContent = option && option.dataset.key === "missing"
    ? "Its key variable is not set where llmwb serve runs: the run will fail with missing_key." : "";
  if (option && option.dataset.name) localStorage.setItem(MODEL_KEY, option.dataset.name);
}

// the request ------------------------------------------------------------------
function readParams() {
  const text = $("params").value.trim();
  if (!text) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`Params is not valid JSON: ${error.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError('Params must be a JSON object, like {"temperature": 0.2}');
  }
  return value;
}

function readBody() {
  const model = $("model").value;
  if (!model) throw new InputError("Pick a model first.");
  return {
    model_id: Number(model),
    prompt: $("prompt").value,
    system_prompt: $("system").value || null,
    params: readParams(),
    tool_ids: [],
    stream: $("stream").checked,
  };
}

async function send(event) {
  event.preventDefault();
  $("params-error").hidden = true;
  let body;
  try {
    body = readBody();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    $("params-error").textContent = error.message;
    $("params-error").hidden = false;
    return;
  }
  view.reset(body.stream);
  setBusy(true);
  controller = new AbortController();
  try {
    const response = await api(body.stream ? "/api/debug/chat?offsets=true" : "/api/debug/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!response.ok) {
      view.error(await errorText(response));
      view.status("Not sent: the server refused the request.", "failed");
    } else if (body.stream) {
      await readStream(response);
    } else {
      const text = await response.text();
      view.raw(text);
      view.whole(JSON.parse(text));
    }
  } catch (error) {
    if (error.name === "AbortError") {
      view.status("Stopped: the server cancelled the run and saved it as cancelled, with what had arrived.", "failed");
    } else {
      view.error(`The request failed: ${error.message}`);
      view.status("Failed.", "failed");
    }
  } finally {
    controller = null;
    setBusy(false);
  }
}

async function readStream(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let ended = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line) ended = handleLine(line) || ended;
    }
  }
  if (!ended) {
    view.error("The stream ended without a final event: the server or the connection went away.");
    view.status("Failed.", "failed");
  }
}

// One SSE line; true once the final event or [DONE] has come.
function handleLine(line) {
  view.raw(line);
  if (!line.startsWith("data: ")) return false;
  const data = line.slice(6);
  if (data === "[DONE]") return true;
  let event;
  try {
    event = JSON.parse(data);
  } catch (error) {
    view.error(`A line that is not JSON: ${data.slice(0, 200)}`);
    return false;
  }
  if ("content" in event) view.content(event.content);
  else if ("reasoning" in event) view.reasoning(event.reasoning);
  else if ("tool_call" in event) view.toolDelta(event.tool_call);
  else if (event.done) view.final(event);
  if (!event.done && typeof event.offset_ms === "number") view.stamp(event.offset_ms);
  return Boolean(event.done);
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").disabled = !busy;
}

// drawing ----------------------------------------------------------------------
const view = {
  reset(stream) {
    for (const id of ["answer", "reasoning", "tools", "raw"]) $(id).replaceChildren();
    this.answerText = $("answer").appendChild(document.createTextNode(""));
    this.reasoningText = $("reasoning").appendChild(document.createTextNode(""));
    this.rawText = $("raw").appendChild(document.createTextNode(""));
    this.rawCount = 0;
    this.events = 0;
    this.cards = new Map();
    this.firstStamp = null;
    $("raw-count").textContent = "0";
    $("metrics-note").textContent = "from the run's final figures";
    $("reasoning-box").hidden = true;
    $("tools-box").hidden = true;
    $("error").hidden = true;
    for (const dd of document.querySelectorAll("#metrics dd")) dd.textContent = "—";
    this.status(stream ? "Waiting for the first event…" : "Waiting for the whole answer…", "streaming");
  },
  status(text, kind) {
    $("status").textContent = text;
    $("status").className = `status ${kind}`;
  },
  progress() {
    this.events += 1;
    this.status(`Streaming… ${this.events} events, ${this.answerText.length} characters so far.`, "streaming");
  },
  // Live figures: TTFT is the first delta's stamp, the same number the final metrics give.
  stamp(offsetMs) {
    const set = (name, text) => { document.querySelector(`#metrics dd[data-metric="${name}"]`).textContent = text; };
    if (this.firstStamp === null) {
      this.firstStamp = offsetMs;
      set("ttft", ms(offsetMs));
    }
    set("total", `last chunk at ${ms(offsetMs)}`);  // not elapsed time: nothing is timed here
    $("metrics-note").textContent = "live, from llmwb's stamps; final figures when the run ends";
  },
  content(text) {
    this.answerText.appendData(text);
    this.progress();
  },
  reasoning(text) {
    $("reasoning-box").hidden = false;
    this.reasoningText.appendData(text);
    this.progress();
  },
  toolDelta(delta) {
    $("tools-box").hidden = false;
    let card = this.cards.get(delta.index);
    if (!card) {
      const item = document.createElement("li");
      const title = item.appendChild(document.createElement("strong"));
      const args = item.appendChild(document.createElement("pre"));
      card = { item, title, args, name: "", id: "" };
      this.cards.set(delta.index, card);
      $("tools").append(item);
    }
    if (delta.name) card.name = delta.name;
    if (delta.id) card.id = delta.id;
    card.title.textContent = `${card.name || "?"}${card.id ? ` (${card.id})` : ""}`;
    card.args.append(delta.arguments_delta || "");
    this.progress();
  },
  // The final event: the finished response replaces what was assembled, so the page
  // shows exactly what llmwb saved (tool arguments pretty-printed when they parse).
  final(event) {
    const response = event.final_response || event.partial_response || {};
    this.metrics(event.metrics || {}, response, event.run_id);
    if (response.tool_calls && response.tool_calls.length) this.toolCalls(response.tool_calls);
    if (event.status === "error" || event.status === "cancelled") this.failure(event);
    else this.status("Done.", "done");
  },
  whole(body) {
    if (body.reasoning) this.reasoning(body.reasoning);
    this.answerText.appendData(body.content || "");
    this.metrics(body.metrics || {}, body, body.run_id);
    if (body.tool_calls && body.tool_calls.length) this.toolCalls(body.tool_calls);
    if (body.status !== "ok") this.failure(body);
    else this.status("Done.", "done");
  },
  failure(event) {
    const detail = [event.error_type, event.http_status ? `HTTP ${event.http_status}` : null].filter(Boolean).join(", ");
    this.error(`${event.error}${detail ? ` [${detail}]` : ""}`);
    this.status(`Failed — ${this.answerText.length ? "the output above is what arrived before the error" : "nothing arrived"}.`, "failed");
  },
  toolCalls(calls) {
    $("tools-box").hidden = false;
    $("tools").replaceChildren(...calls.map((call) => {
      const item = document.createElement("li");
      item.appendChild(document.createElement("strong")).textContent = `${call.name} (${call.id})`;
      const args = item.appendChild(document.createElement("pre"));
      const parsed = call.arguments;
      if (parsed !== null && typeof parsed === "object") {
        args.textContent = JSON.stringify(parsed, null, 2);
      } else {
        args.textContent = call.arguments_raw ?? String(parsed ?? "");
        item.appendChild(document.createElement("span")).textContent = "arguments are not valid JSON";
        item.lastChild.className = "invalid";
      }
      return item;
    }));
  },
  metrics(m, response, runId) {
    $("metrics-note").textContent = "from the run's final figures";
    const set = (name, text) => { document.querySelector(`#metrics dd[data-metric="${name}"]`).textContent = text ?? "—"; };
    set("ttft", ms(m.ttft_ms));
    set("total", ms(m.total_ms));
    set("tps", m.decode_tps == null ? null : `${m.decode_tps.toFixed(1)} tok/s`);
    let tokens = m.prompt_tokens == null ? null : `${m.prompt_tokens} in / ${m.completion_tokens} out`;
    if (tokens && m.reasoning_tokens) tokens += ` (${m.reasoning_tokens} reasoning)`;
    if (tokens && m.usage_source === "estimated") tokens += " — estimated, the server sent no usage";
    set("tokens", tokens);
    set("cost", m.cost_usd == null ? null : (m.cost_usd === 0 ? "$0" : `$${m.cost_usd < 0.01 ? m.cost_usd.toFixed(6) : m.cost_usd.toFixed(4)}`));
    set("chunks", m.chunks == null ? null : String(m.chunks));
    set("finish", response.finish_reason);
    set("run", runId);
  },
  error(text) {
    $("error").textContent = text;
    $("error").hidden = false;
  },
  raw(line) {
    this.rawText.appendData(`${line}\n`);
    this.rawCount += 1;
    $("raw-count").textContent = String(this.rawCount);
  },
};

function ms(value) {
  if (value == null) return null;
  return value >= 10000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}

document.addEventListener("DOMContentLoaded", () => {
  view.reset(true);
  view.status("Ready.", "idle");
  $("request").addEventListener("submit", send);
  $("stop").addEventListener("click", () => controller && controller.abort());
  $("model").addEventListener("change", describeModel);
  $("params").addEventListener("input", () => { $("params-error").hidden = true; });
  $("token").addEventListener("change", () => {
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    loadModels();
  });
  loadModels();
});
