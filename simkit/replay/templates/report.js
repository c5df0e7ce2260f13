// simkit replay report. Run text is only ever written with textContent, never as markup.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("run-data").textContent);
  const PAGE = 1000;
  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A block (see simkit/replay/render.py) as DOM nodes.
  function block(b) {
    if ("text" in b) return el("span", "block-text" + (b.style ? " st-" + b.style : ""), b.text);
    if ("fields" in b) {
      const box = el("div", "block-fields");
      for (const [k, v] of b.fields) { box.append(el("span", "k", k), el("span", "v", v)); }
      return box;
    }
    if ("list" in b) {
      const list = el(b.ordered ? "ol" : "ul", "block-list");
      for (const child of b.list) { const li = el("li"); li.append(block(child)); list.append(li); }
      return list;
    }
    if ("group" in b) {
      const box = el("div", "block-group");
      for (const child of b.group) box.append(block(child));
      return box;
    }
    const box = el("div", "block-section");
    box.append(el("div", "title", b.section));
    for (const child of b.body) box.append(block(child));
    return box;
  }

  function plain(b) {
    if ("text" in b) return b.text;
    if ("fields" in b) return b.fields.map(([k, v]) => k + ": " + v).join("  ");
    if ("list" in b) return b.list.map(plain).join(" | ");
    if ("group" in b) return b.group.map(plain).join("  ");
    return b.section + ": " + b.body.map(plain).join(" ");
  }

  // Index rows by tick once; keep lower-cased text for search.
  const byTick = new Map();
  const ticks = DATA.ticks.map((t) => t[0]);
  const slot = (t) => {
    if (!byTick.has(t)) { byTick.set(t, { events: [], exposures: [], judgements: [] }); ticks.push(t); }
    return byTick.get(t);
  };
  for (const t of ticks) byTick.set(t, { events: [], exposures: [], judgements: [] });
  for (const e of DATA.events) {
    slot(e[0]);
    byTick.get(e[0]).events.push({ tick: e[0], seq: e[1], agent: e[2], kind: e[3], time: e[4], view: e[5], q: plain(e[5]).toLowerCase() });
  }
  for (const x of DATA.exposures) {
    if (byTick.has(x[0])) byTick.get(x[0]).exposures.push({ agent: x[1], view: x[2], q: plain(x[2]).toLowerCase() });
  }
  // Judge messages: [tick, seq, judge, phase, item, parsed_ok, block]; a run's judges write in
  // its last tick.
  for (const [t, seq, judge, phase, item, ok, view] of DATA.judgements) {
    slot(t).judgements.push({ seq, judge, phase, item, ok, view, q: (plain(view) + " " + judge + " " + item).toLowerCase() });
  }
  const judgedTicks = [...new Set(DATA.judgements.map((j) => j[0]))].sort((a, b) => a - b);
  ticks.sort((a, b) => a - b);
  const simTime = new Map(DATA.ticks.map((t) => [t[0], t]));

  const state = { i: 0, agent: "", kind: "", text: "", judge: "", phase: "", item: "", openAgent: null, timer: null, limit: PAGE };

  function eventMatches(e) {
    return (!state.agent || e.agent === state.agent) && (!state.kind || e.kind === state.kind)
      && (!state.text || e.q.includes(state.text) || (e.agent || "").toLowerCase().includes(state.text) || e.kind.toLowerCase().includes(state.text));
  }
  function exposureMatches(x) {
    return (!state.agent || x.agent === state.agent) && (!state.text || x.q.includes(state.text));
  }
  function judgementMatches(j) {
    return (!state.judge || j.judge === state.judge) && (!state.phase || j.phase === state.phase)
      && (!state.item || j.item === state.item) && (!state.text || j.q.includes(state.text));
  }
  const judgeFiltering = () => Boolean(state.judge || state.phase || state.item || state.text);
  const filtering = () => Boolean(state.agent || state.kind || judgeFiltering());

  function agentLink(agent) {
    if (!agent) return el("span", "dim", "(world)");
    const b = el("button", "agent-link", agent);
    b.addEventListener("click", () => openAgent(agent));
    return b;
  }

  function renderTimeline() {
    const nav = $("timeline");
    nav.replaceChildren();
    let hits = 0;
    ticks.forEach((t, i) => {
      const rows = byTick.get(t);
      const n = rows.events.filter(eventMatches).length;
      const m = rows.judgements.filter(judgementMatches).length;
      const hit = n > 0 || (judgeFiltering() && m > 0);
      if (hit) hits += 1;
      const info = simTime.get(t);
      const b = el("button", "tick" + (hit ? (filtering() ? " hit" : "") : (m ? "" : " empty")) + (i === state.i ? " current" : ""));
      b.dataset.tick = t;
      b.append(el("span", "", "t" + t + " " + (info ? (info[1] || "").slice(11, 19) : "")),
        el("span", "judged", m ? "⚖" + m : ""), el("span", "", n));
      b.addEventListener("click", () => go(i));
      nav.append(b);
    });
    $("match-info").textContent = filtering() ? hits + " of " + ticks.length + " ticks match" : "";
    const cur = nav.querySelector(".current");
    if (cur) cur.scrollIntoView({ block: "nearest" });
  }

  function renderTick() {
    const t = ticks[state.i];
    const rows = byTick.get(t) || { events: [], exposures: [], judgements: [] };
    const info = simTime.get(t);
    $("tick-title").textContent = t === undefined ? "No tick committed yet"
      : "Tick " + t + (info ? " · " + info[1] + " · " + info[2] + " active agents" : "");
    $("jump").value = t;
    const events = rows.events.filter(eventMatches);
    const body = $("events").tBodies[0];
    body.replaceChildren();
    for (const e of events.slice(0, state.limit)) {
      const tr = el("tr");
      tr.dataset.agent = e.agent || "";
      tr.dataset.kind = e.kind;
      const who = el("td"); who.append(agentLink(e.agent));
      const what = el("td"); what.append(block(e.view));
      tr.append(el("td", "", e.seq), el("td", "", (e.time || "").slice(11, 19)), who, el("td", "", e.kind), what);
      body.append(tr);
    }
    if (events.length > state.limit) {
      const tr = el("tr"); const td = el("td"); td.colSpan = 5;
      const more = el("button", "", "show " + Math.min(PAGE, events.length - state.limit) + " more");
      more.addEventListener("click", () => { state.limit += PAGE; renderTick(); });
      td.append(more); tr.append(td); body.append(tr);
    }
    $("event-count").textContent = filtering() ? events.length + " of " + rows.events.length : String(rows.events.length);
    renderJudgements(rows.judgements);
    const exposures = rows.exposures.filter(exposureMatches);
    const box = $("exposures");
    box.replaceChildren();
    for (const x of exposures.slice(0, state.limit)) {
      const div = el("div", "exposure");
      div.dataset.agent = x.agent;
      div.append(agentLink(x.agent), el("span", "dim", " was shown:"), block(x.view));
      box.append(div);
    }
    if (!exposures.length) box.append(el("p", "dim", "nothing recorded"));
    $("exposure-count").textContent = filtering() ? exposures.length + " of " + rows.exposures.length : String(rows.exposures.length);
    if (state.openAgent) markCalls();
  }

  function renderJudgements(all) {
    $("judgements-box").hidden = DATA.judgements.length === 0;
    const shown = all.filter(judgementMatches);
    const box = $("judgements");
    box.replaceChildren();
    for (const j of shown.slice(0, state.limit)) {
      const div = el("div", "judgement" + (j.ok ? "" : " failed"));
      div.dataset.judge = j.judge;
      div.dataset.phase = j.phase;
      div.dataset.ok = j.ok ? "1" : "0";
      div.append(block(j.view));
      box.append(div);
    }
    if (shown.length > state.limit) box.append(el("p", "dim", (shown.length - state.limit) + " more: narrow them with the judge and phase filters"));
    if (!shown.length) {
      const where = judgedTicks.filter((t) => t !== ticks[state.i]);
      box.append(el("p", "dim", all.length ? "none matches the filters"
        : "none in this tick" + (where.length ? " (recorded in tick " + where.slice(0, 5).join(", ") + (where.length > 5 ? ", …" : "") + ")" : "")));
    }
    $("judgement-count").textContent = judgeFiltering() ? shown.length + " of " + all.length : String(all.length);
  }

  function go(i) {
    state.i = Math.max(0, Math.min(ticks.length - 1, i));
    state.limit = PAGE;
    for (const b of $("timeline").querySelectorAll(".current")) b.classList.remove("current");
    const cur = $("timeline").children[state.i];
    if (cur) { cur.classList.add("current"); cur.scrollIntoView({ block: "nearest" }); }
    renderTick();
  }

  function openAgent(agent) {
    const info = DATA.agents[agent];
    state.openAgent = agent;
    $("agent-view").hidden = false;
    document.querySelector("main").classList.add("with-agent");
    $("agent-title").textContent = agent + (info ? " · " + info.kind : "");
    $("agent-persona").replaceChildren(info ? block(info.persona) : el("p", "dim", "not in the agents table"));
    const states = $("agent-states").tBodies[0];
    states.replaceChildren();
    for (const [t, view] of (info ? info.states : [])) {
      const tr = el("tr"); const td = el("td"); td.append(block(view));
      tr.append(el("td", "", "t" + t), td); states.append(tr);
    }
    if (!states.children.length) states.append(el("tr", "dim", "no snapshots"));
    const calls = $("agent-calls");
    calls.replaceChildren();
    const list = info ? info.calls : [];
    $("agent-call-count").textContent = String(list.length);
    for (const [t, purpose, model, tin, tout, latency, cached, ok, messages, answer] of list) {
      const box = el("details", "call");
      box.dataset.tick = t;
      box.append(el("summary", "", "t" + t + " · " + purpose + " · " + model + " · " + tin + "→" + tout + " tokens · "
        + latency + " ms" + (cached ? " · cached" : "") + (ok ? "" : " · PARSE FAILED")));
      for (const [role, content] of messages) { box.append(el("div", "role", role), el("pre", "", content)); }
      box.append(el("div", "role", "answer"), el("pre", "answer", answer));
      calls.append(box);
    }
    markCalls();
  }

  function markCalls() {
    const t = ticks[state.i];
    for (const c of $("agent-calls").children) c.classList.toggle("current", Number(c.dataset.tick) === t);
  }

  function closeAgent() {
    state.openAgent = null;
    $("agent-view").hidden = true;
    document.querySelector("main").classList.remove("with-agent");
  }

  function play() {
    if (state.timer) { clearInterval(state.timer); state.timer = null; $("play").textContent = "play"; return; }
    $("play").textContent = "pause";
    state.timer = setInterval(() => {
      if (state.i >= ticks.length - 1) { play(); return; }
      go(state.i + 1);
    }, Number($("speed").value));
  }

  function setFilters() {
    state.agent = $("f-agent").value;
    state.kind = $("f-kind").value;
    state.text = $("f-text").value.trim().toLowerCase();
    state.judge = $("f-judge").value;
    state.phase = $("f-phase").value;
    state.item = $("f-item").value;
    state.limit = PAGE;
    renderTimeline();
    renderTick();
  }

  for (const a of Object.keys(DATA.agents).sort()) $("f-agent").append(el("option", "", a));
  for (const k of DATA.kinds) $("f-kind").append(el("option", "", k));
  for (const [key, id] of [["judge", "f-judge"], ["phase", "f-phase"], ["item", "f-item"]]) {
    for (const v of DATA.judgement_facets[key]) $(id).append(el("option", "", v));
    $(id).addEventListener("change", setFilters);
  }
  if (DATA.judgement_facets.item.length < 2) $("f-item").closest("label").hidden = true;
  $("f-agent").addEventListener("change", setFilters);
  $("f-kind").addEventListener("change", setFilters);
  $("f-text").addEventListener("input", setFilters);
  $("f-clear").addEventListener("click", () => { $("f-agent").value = ""; $("f-kind").value = ""; $("f-text").value = "";
    for (const id of ["f-judge", "f-phase", "f-item"]) $(id).value = "";
    setFilters(); });
  $("prev").addEventListener("click", () => go(state.i - 1));
  $("next").addEventListener("click", () => go(state.i + 1));
  $("play").addEventListener("click", play);
  $("speed").addEventListener("change", () => { if (state.timer) { play(); play(); } });
  $("jump").addEventListener("change", () => {
    const want = Number($("jump").value);
    const i = ticks.findIndex((t) => t >= want);
    go(i < 0 ? ticks.length - 1 : i);
  });
  $("agent-close").addEventListener("click", closeAgent);
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest && ev.target.closest("input, select, textarea")) return;
    if (ev.key === "ArrowRight") go(state.i + 1);
    else if (ev.key === "ArrowLeft") go(state.i - 1);
    else if (ev.key === " ") { ev.preventDefault(); play(); }
    else if (ev.key === "Escape") closeAgent();
  });

  // Open at the requested tick, else where something happened first.
  const start = DATA.start === null ? ticks.findIndex((t) => byTick.get(t).events.length > 0) : ticks.findIndex((t) => t >= DATA.start);
  state.i = start < 0 ? (DATA.start === null ? 0 : ticks.length - 1) : start;
  renderTimeline();
  renderTick();
  document.body.dataset.ready = "1";
})();
