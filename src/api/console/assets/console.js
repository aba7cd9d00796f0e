// The ecsd console: one page, a view per hash route (#/fleet, #/server/ID, #/jobs, #/calls,
// #/faults, #/snapshots, #/clock, #/connect). Data comes from /console/api (the session's
// project) and the audit trail (/_ecsd/events); the views stay live through the event stream,
// re-reading only what an event names (a job, a server, the visible page of the fleet).
// Hand-written, no build step, no third-party code: ecsd embeds this file as it is.
"use strict";

const csrf = document.querySelector('meta[name="ecsd-csrf"]').content;
const main = document.getElementById("main");

// ---------------------------------------------------------------- helpers

/** An element: h("td", {class: "mono", onclick: f}, "text", child, ...). Text is never parsed as HTML. */
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "value") element.value = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

class ApiError extends Error {}

/** A console call; state-changing ones carry the session's CSRF token. */
async function api(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") init.headers["X-Ecsd-Csrf"] = csrf;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    location.assign("/console");
    throw new ApiError("The session has ended.");
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(error ? `${error.code}: ${error.message}` : `HTTP ${response.status}`);
  }
  return data;
}

function toast(message, bad) {
  const box = h("div", { class: bad ? "bad" : "" }, message);
  document.getElementById("toast").append(box);
  setTimeout(() => box.remove(), bad ? 8000 : 4000);
}

/** Runs an action from a button: disabled while it runs, its failure shown. */
async function act(button, action, done) {
  if (button) button.disabled = true;
  try {
    const result = await action();
    if (done) toast(done);
    return result;
  } catch (error) {
    toast(error.message, true);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

function badge(status) {
  return h("span", { class: `badge ${status}` }, status);
}

function time(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString().replace("T", " ").replace(/\.\d+Z$|Z$/, "Z");
}

function short(id) {
  return id ? `${id.slice(0, 8)}…` : "";
}

/** Calls `run` once, `ms` after the last of a burst of calls (for typing). */
function debounce(run, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(...args), ms);
  };
}

/** Calls `run` at most once every `ms`, after the first call of each window: a steady stream of
 * events re-reads a view a few times a second, never once per event, and never starves it. */
function throttle(run, ms) {
  let timer = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; run(); }, ms);
  };
}

/** A table of `rows`, or with `rows` as its (live) tbody element. */
function table(headers, rows) {
  return h("div", { class: "scroll" },
    h("table", {},
      h("thead", {}, h("tr", {}, headers.map(([label, cls]) => h("th", { scope: "col", class: cls }, label)))),
      rows instanceof Node ? rows : h("tbody", {}, rows)));
}

function heading(text, ...rest) {
  return h("h1", { tabindex: "-1" }, text, ...rest);
}

// The OpenAPI document describes the fault rules and the server statuses: the forms follow it.
let schemas = null;
async function schema(name) {
  if (!schemas) schemas = (await (await fetch("/openapi.json")).json()).components.schemas;
  return schemas[name];
}

// ---------------------------------------------------------------- the event stream

const trail = {
  /** Events seen (from the first reads and the stream), by id, oldest first; at most `max`. */
  events: [],
  ids: new Set(),
  max: 5000,
  listeners: new Set(),
  add(event) {
    if (this.ids.has(event.id)) return false;
    this.ids.add(event.id);
    this.events.push(event);
    if (this.events.length > this.max) this.ids.delete(this.events.shift().id);
    return true;
  },
};

async function events(query) {
  const answer = await api("GET", `/_ecsd/events?${new URLSearchParams(query)}`);
  return answer.events;
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/_ecsd/events/stream");
  source.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  source.onerror = () => { live.textContent = "reconnecting"; live.classList.remove("on"); };
  const receive = (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    if (!trail.add(event)) return;
    for (const listener of trail.listeners) listener(event);
  };
  for (const kind of ["call", "job", "sub_job", "fault"]) source.addEventListener(kind, receive);
  source.onmessage = receive;
}

function describeEvent(event) {
  const what = event.operation || event.kind;
  const status = event.status === undefined || event.status === null ? "" : ` → ${event.status}`;
  const code = event.code ? ` ${event.code}` : "";
  const message = event.message ? ` (${event.message})` : "";
  return `${what}${status}${code}${message}`;
}

// ---------------------------------------------------------------- views

const views = {};

// Fleet: one page of servers at a time, however large the fleet; re-read when events arrive.
const fleet = { page: 1, limit: 50, name: "", status: "", ip: "", tag: "" };
views.fleet = {
  title: "Fleet",
  async render() {
    const statuses = (await schema("Status")).enum;
    const body = h("tbody", {});
    const summary = h("span", { class: "muted", role: "status" });
    const prev = h("button", { type: "button", class: "quiet", onclick: () => { fleet.page -= 1; load(); } }, "← Previous");
    const next = h("button", { type: "button", class: "quiet", onclick: () => { fleet.page += 1; load(); } }, "Next →");
    const field = (key, label, attrs) => h("label", {}, label,
      h("input", { ...attrs, name: key, value: fleet[key], oninput: debounce((e) => { fleet[key] = e.target.value; fleet.page = 1; load(); }, 250) }));
    const status = h("select", { name: "status", onchange: (e) => { fleet.status = e.target.value; fleet.page = 1; load(); } },
      h("option", { value: "" }, "any"), statuses.map((s) => h("option", { value: s, selected: fleet.status === s }, s)));
    const grid = table([["Name"], ["Status"], ["Flavor"], ["IPs"], ["Tags", "hide-narrow"], ["Host", "hide-narrow"], ["Zone", "hide-narrow"], ["Created", "hide-narrow"]], body);
    main.replaceChildren(
      heading("Fleet"),
      h("form", { class: "toolbar", role: "search", onsubmit: (e) => e.preventDefault() },
        field("name", "Search by name", { type: "search", id: "fleet-search", placeholder: "web-.1" }),
        h("label", {}, "Status", status),
        field("ip", "IP address", { placeholder: "192.168." }),
        field("tag", "Tag", { placeholder: "role=db" })),
      grid,
      h("div", { class: "pager" }, prev, summary, next));
    let asked = 0;
    async function load() {
      const mine = ++asked;
      const query = { page: fleet.page, limit: fleet.limit };
      for (const key of ["name", "status", "ip", "tag"]) if (fleet[key]) query[key] = fleet[key];
      let answer;
      try { answer = await api("GET", `/console/api/servers?${new URLSearchParams(query)}`); } catch (error) { summary.textContent = error.message; return; }
      if (mine !== asked) return;
      const pages = Math.max(1, Math.ceil(answer.total / answer.limit));
      if (fleet.page > pages) { fleet.page = pages; load(); return; }
      const first = answer.total === 0 ? 0 : (answer.page - 1) * answer.limit + 1;
      summary.textContent = `${first}–${first + answer.servers.length - (answer.total ? 1 : 0)} of ${answer.total.toLocaleString("en")} servers · page ${answer.page} of ${pages}`;
      prev.disabled = answer.page <= 1;
      next.disabled = answer.page >= pages;
      body.replaceChildren(...answer.servers.map((s) => h("tr", { "data-id": s.id },
        h("td", {}, h("a", { href: `#/server/${s.id}` }, s.name), s.locked ? " 🔒" : ""),
        h("td", {}, badge(s.status), s.task_state ? h("div", { class: "muted" }, s.task_state) : null),
        h("td", {}, s.flavor),
        h("td", { class: "mono" }, s.ips.join(", ")),
        h("td", { class: "hide-narrow" }, s.tags.map((t) => h("span", { class: "tag" }, t))),
        h("td", { class: "hide-narrow mono" }, s.host || ""),
        h("td", { class: "hide-narrow" }, s.zone),
        h("td", { class: "hide-narrow" }, time(s.created)))));
      if (answer.servers.length === 0) body.append(h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No servers match.")));
    }
    this.onEvent = throttle(load, 300);
    await load();
  },
};

// Server: its details, NICs and disks, and its timeline from the audit trail.
views.server = {
  title: "Server",
  async render(id) {
    const facts = h("div", {});
    const timeline = h("ol", { class: "timeline", reversed: true });
    main.replaceChildren(heading("Server ", h("span", { class: "mono" }, id)), facts, h("h2", {}, "Timeline"), h("div", { class: "panel" }, timeline));
    const item = (event) => h("li", {}, h("span", { class: "muted" }, time(event.time), " "), describeEvent(event),
      event.job_id ? [" · job ", h("a", { href: `#/jobs/${event.job_id}` }, short(event.job_id))] : null);
    let asked = 0;
    async function load() {
      const mine = ++asked;
      let server;
      try { server = await api("GET", `/console/api/servers/${encodeURIComponent(id)}`); } catch (error) { facts.replaceChildren(h("p", { class: "error" }, error.message)); return; }
      if (mine !== asked) return;
      facts.replaceChildren(
        h("div", { class: "panel" }, h("dl", { class: "facts" },
          [["Name", server.name], ["Status", badge(server.status)], ["Task", server.task_state || "—"], ["vm_state", server.vm_state],
            ["Flavor", `${server.flavor}${server.vcpus ? ` (${server.vcpus} vCPU, ${server.ram_mib / 1024} GiB)` : ""}`],
            ["Image", server.image_name || server.image_id], ["Host", server.host || "—"], ["Zone", server.zone], ["VPC", server.vpc_id],
            ["Tags", server.tags.map((t) => h("span", { class: "tag" }, t))], ["Security groups", server.security_group_ids.join(", ")],
            ["Key pair", server.key_name || "—"], ["Created", time(server.created)], ["Launched", time(server.launched_at)], ["Updated", time(server.updated)],
            ["Metadata", Object.entries(server.metadata).map(([k, v]) => h("span", { class: "tag" }, `${k}=${v}`))]]
            .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
        h("h2", {}, "NICs"),
        table([["IP"], ["MAC"], ["Port"], ["Subnet"]], server.nics.map((n) => h("tr", {},
          h("td", { class: "mono" }, n.ip), h("td", { class: "mono" }, n.mac), h("td", { class: "mono" }, n.port_id), h("td", { class: "mono" }, n.subnet_id)))),
        h("h2", {}, "Disks"),
        table([["Device"], ["Size"], ["Type"], ["Boot"], ["Deleted with the server"], ["Id"]], server.disks.map((d) => h("tr", {},
          h("td", { class: "mono" }, d.device), h("td", {}, `${d.size_gib} GiB`), h("td", {}, d.volume_type),
          h("td", {}, d.boot_index === 0 ? "system" : "data"), h("td", {}, d.delete_on_termination ? "yes" : "no"), h("td", { class: "mono" }, d.id)))));
    }
    const reload = throttle(load, 300);
    this.onEvent = (event) => {
      if (!(event.server_ids || []).includes(id)) return;
      timeline.prepend(item(event));
      reload();
    };
    await load();
    try {
      const past = await events({ server_id: id, limit: 500 });
      timeline.replaceChildren(...past.reverse().map(item));
    } catch (error) {
      timeline.replaceChildren(h("li", { class: "muted" }, `No timeline: ${error.message}`));
    }
  },
};

// Jobs: the project's recent jobs, each with a progress bar of its sub-jobs.
const jobs = { known: new Map() };
views.jobs = {
  title: "Jobs",
  async render(focus) {
    const list = h("div", { class: "jobs" });
    main.replaceChildren(heading("Jobs"), h("p", { class: "muted" }, "Jobs of the project's calls, newest first; each follows its sub-jobs live."), list);
    const cards = new Map();
    function card(job) {
      const done = job.counts.success + job.counts.fail;
      const width = (n) => `${job.counts.total ? (100 * n) / job.counts.total : 0}%`;
      const bar = h("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": job.counts.total, "aria-valuenow": done, "aria-label": `${job.job_type} progress` },
        h("span", { class: "success" }), h("span", { class: "fail" }), h("span", { class: "running" }));
      const [ok, failed, running] = bar.children;
      ok.style.width = width(job.counts.success);
      failed.style.width = width(job.counts.fail);
      running.style.width = width(job.counts.running);
      const failures = job.sub_jobs.filter((s) => s.status === "FAIL").length;
      return h("article", { class: "panel job", id: `job-${job.id}`, "data-status": job.status },
        h("header", {}, h("span", { class: "kind" }, job.job_type), badge(job.status), h("span", { class: "mono muted" }, job.id),
          h("span", { class: "muted" }, time(job.begin_time), job.end_time ? ` → ${time(job.end_time)}` : "")),
        bar,
        h("div", { class: "counts" }, `${done} of ${job.counts.total} sub-jobs done: ${job.counts.success} succeeded, ${job.counts.fail} failed, ${job.counts.running} running, ${job.counts.init} waiting`),
        job.code ? h("div", { class: "failure" }, `${job.code}: ${job.reason || ""}`) : null,
        h("details", { open: failures > 0 || job.id === focus },
          h("summary", {}, `Sub-jobs (${job.sub_jobs.length})`),
          table([["Server"], ["Sub-job"], ["Status"], ["Code"], ["fail_reason"]], job.sub_jobs.map((s) => h("tr", { "data-status": s.status },
            h("td", {}, h("a", { href: `#/server/${s.server_id}`, class: "mono" }, short(s.server_id))),
            h("td", { class: "mono" }, s.job_type),
            h("td", {}, badge(s.status)),
            h("td", { class: "failure" }, s.code || ""),
            h("td", { class: "failure" }, s.reason || ""))))));
    }
    function show(job) {
      jobs.known.set(job.id, job);
      const fresh = card(job);
      const old = cards.get(job.id);
      if (old) old.replaceWith(fresh);
      else {
        const after = [...cards.entries()].find(([id]) => jobs.known.get(id).begin_time < job.begin_time);
        if (after) list.insertBefore(fresh, after[1]); else list.append(fresh);
      }
      cards.set(job.id, fresh);
    }
    // One re-read per job at a time, and an answer older than the last one asked is dropped.
    const pending = new Map();
    const asked = new Map();
    function fetchJob(id) {
      if (!pending.has(id)) {
        pending.set(id, throttle(async () => {
          const mine = (asked.get(id) || 0) + 1;
          asked.set(id, mine);
          let job;
          try { job = await api("GET", `/console/api/jobs/${encodeURIComponent(id)}`); } catch { return; /* gone after a reset or a restore */ }
          if (asked.get(id) === mine) show(job);
        }, 150));
      }
      pending.get(id)();
    }
    this.onEvent = (event) => { if (event.job_id) fetchJob(event.job_id); };
    let ids = [];
    try {
      const past = await events({ kind: "job", limit: 1000 });
      ids = [...new Set(past.map((e) => e.job_id).filter(Boolean).reverse())].slice(0, 50);
    } catch (error) {
      list.append(h("p", { class: "error" }, `No job history: ${error.message}`));
    }
    if (focus && !ids.includes(focus)) ids.unshift(focus);
    for (const id of ids) fetchJob(id);
    if (ids.length === 0) list.append(h("p", { class: "muted", id: "no-jobs" }, "No jobs yet: they appear here as calls start them."));
  },
};

// Calls: the audit trail of API calls, live, filtered in place.
views.calls = {
  title: "Calls",
  async render() {
    const filter = { operation: "", outcome: "", text: "" };
    const body = h("tbody", {});
    const count = h("span", { class: "muted", role: "status" });
    const grid = table([["Time"], ["Operation"], ["Status"], ["Code"], ["Caller", "hide-narrow"], ["Servers"], ["Job", "hide-narrow"], ["Request id", "hide-narrow"]], body);
    const operations = h("datalist", { id: "operations" });
    const matches = (e) => e.kind === "call"
      && (!filter.operation || (e.operation || "").toLowerCase().includes(filter.operation.toLowerCase()))
      && (!filter.outcome || String(e.status).startsWith(filter.outcome))
      && (!filter.text || [e.request_id, e.caller, e.code, e.message, e.job_id, ...(e.server_ids || [])].some((v) => v && String(v).includes(filter.text)));
    const row = (e) => h("tr", {},
      h("td", {}, time(e.time)),
      h("td", {}, e.operation || ""),
      h("td", {}, h("span", { class: `badge ${e.status >= 400 ? "FAIL" : "SUCCESS"}` }, e.status)),
      h("td", { class: "failure" }, e.code || ""),
      h("td", { class: "hide-narrow mono" }, e.caller || ""),
      h("td", {}, (e.server_ids || []).slice(0, 3).map((id) => [h("a", { href: `#/server/${id}`, class: "mono" }, short(id)), " "]), (e.server_ids || []).length > 3 ? `+${e.server_ids.length - 3}` : ""),
      h("td", { class: "hide-narrow" }, e.job_id ? h("a", { href: `#/jobs/${e.job_id}`, class: "mono" }, short(e.job_id)) : ""),
      h("td", { class: "hide-narrow mono" }, e.request_id || ""));
    function draw() {
      const shown = trail.events.filter(matches).slice(-500).reverse();
      body.replaceChildren(...shown.map(row));
      count.textContent = `${shown.length} calls shown`;
      const seen = [...new Set(trail.events.filter((e) => e.kind === "call").map((e) => e.operation))].sort();
      operations.replaceChildren(...seen.map((o) => h("option", { value: o })));
    }
    const input = (key, label, attrs) => h("label", {}, label, h("input", { ...attrs, oninput: (e) => { filter[key] = e.target.value.trim(); draw(); } }));
    main.replaceChildren(heading("Calls"),
      h("form", { class: "toolbar", role: "search", onsubmit: (e) => e.preventDefault() },
        input("operation", "Operation", { list: "operations", placeholder: "BatchStopServers" }),
        h("label", {}, "Status", h("select", { onchange: (e) => { filter.outcome = e.target.value; draw(); } },
          h("option", { value: "" }, "any"), h("option", { value: "2" }, "2xx"), h("option", { value: "4" }, "4xx"), h("option", { value: "5" }, "5xx"))),
        input("text", "Server, job, request id or caller", { type: "search" }), count),
      operations, grid);
    this.onEvent = throttle(draw, 200);
    try {
      for (const e of await events({ kind: "call", limit: 1000 })) trail.add(e);
    } catch (error) {
      toast(`No call history: ${error.message}`, true);
    }
    draw();
  },
};

// Faults: the project's rules with their counters, and a form built from the rule's schema.
views.faults = {
  title: "Faults",
  async render() {
    const [spec, effect, operations] = await Promise.all([schema("FaultSpec"), schema("FaultEffect"), schema("FaultOperation")]);
    const body = h("tbody", {});
    const grid = table([["Id", "hide-narrow"], ["Operation"], ["Matches"], ["Effect"], ["Fired"], [""]], body);
    const describe = (object, skip) => Object.entries(object).filter(([k, v]) => !skip.includes(k) && v !== null && v !== undefined).map(([k, v]) => `${k}=${v}`).join(", ");
    async function load() {
      const { faults } = await api("GET", "/console/api/faults");
      body.replaceChildren(...faults.map((rule) => h("tr", { "data-id": rule.id },
        h("td", { class: "hide-narrow mono" }, rule.id),
        h("td", {}, rule.operation),
        h("td", {}, describe({ server_id: rule.server_id, name_pattern: rule.name_pattern, tag: rule.tag, probability: rule.probability, count: rule.count, seed: rule.seed || null }, []) || "every occasion"),
        h("td", {}, rule.effect.kind, " ", h("span", { class: "muted" }, describe(rule.effect, ["kind"]))),
        h("td", {}, `${rule.fired} of ${rule.evaluations}`),
        h("td", {},
          rule.effect.kind === "hang" ? h("button", { type: "button", class: "quiet", onclick: (e) => act(e.target, () => api("POST", `/console/api/faults/${rule.id}/release`), "Released").then(load) }, "Release") : null, " ",
          h("button", { type: "button", class: "danger", "aria-label": `Remove rule ${rule.id}`, onclick: (e) => act(e.target, () => api("DELETE", `/console/api/faults/${rule.id}`), "Rule removed").then(load) }, "Remove")))));
      if (faults.length === 0) body.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No fault rules.")));
    }

    // The form: the operation, the effect (its fields follow the chosen kind), the matchers.
    const variants = effect.oneOf.map((v) => ({ kind: v.properties.kind.enum[0], description: v.description, variant: v }));
    const effectFields = h("fieldset", {}, h("legend", {}, "Effect"));
    const kind = h("select", { id: "fault-effect", name: "kind", onchange: () => drawEffect() }, variants.map((v) => h("option", { value: v.kind }, v.kind)));
    const typed = (name, property, required, prefix) => {
      const types = [].concat(property.type || "string");
      const numeric = types.includes("integer") || types.includes("number");
      return h("label", {}, `${name}${required ? " *" : ""}`, h("input", {
        id: `${prefix}-${name}`, name, "data-type": numeric ? (types.includes("integer") ? "integer" : "number") : "string",
        type: numeric ? "number" : "text", required, min: property.minimum, max: property.maximum,
        step: types.includes("number") ? "any" : undefined, title: property.description,
      }));
    };
    function drawEffect() {
      const chosen = variants.find((v) => v.kind === kind.value);
      const fields = Object.entries(chosen.variant.properties).filter(([name]) => name !== "kind")
        .map(([name, property]) => typed(name, property, (chosen.variant.required || []).includes(name), "effect"));
      effectFields.replaceChildren(h("legend", {}, "Effect"), h("label", {}, "Kind", kind), ...fields, h("p", { class: "muted wide" }, chosen.description));
    }
    drawEffect();
    // The schema's matchers, the most used first.
    const order = ["server_id", "name_pattern", "tag", "count", "probability", "seed"];
    const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
    const matchers = Object.entries(spec.properties).filter(([name]) => !["operation", "effect", "project_id"].includes(name))
      .sort(([a], [b]) => rank(a) - rank(b));
    const error = h("p", { class: "error wide", role: "alert" });
    const value = (input) => {
      if (input.value === "") return undefined;
      return input.dataset.type === "string" ? input.value : Number(input.value);
    };
    const form = h("form", { class: "form panel", "aria-label": "Add a fault rule", onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = "";
      const rule = { operation: form.querySelector("#fault-operation").value, effect: { kind: kind.value } };
      for (const input of effectFields.querySelectorAll("input")) if (value(input) !== undefined) rule.effect[input.name] = value(input);
      for (const [name] of matchers) {
        const v = value(form.querySelector(`#fault-${name}`));
        if (v !== undefined) rule[name] = v;
      }
      try {
        await api("POST", "/console/api/faults", rule);
        toast(`Rule added: ${rule.operation} → ${rule.effect.kind}`);
        await load();
      } catch (failure) {
        error.textContent = failure.message;
      }
    } },
    h("label", {}, "Operation *", h("select", { id: "fault-operation", name: "operation" }, operations.enum.map((o) => h("option", { value: o }, o)))),
    matchers.map(([name, property]) => typed(name, property, false, "fault")),
    effectFields, error,
    h("div", { class: "wide" }, h("button", { type: "submit" }, "Add the rule")));
    main.replaceChildren(heading("Faults"), grid, h("h2", {}, "Add a rule"), h("p", { class: "muted" }, "As docs/testing.md describes: every matcher is optional; the rule is the project's."), form);
    this.onEvent = throttle(() => load().catch(() => {}), 300);
    await load();
  },
};

// Snapshots: the whole state, saved and put back by name (an admin credential's session).
views.snapshots = {
  title: "Snapshots",
  async render() {
    const body = h("tbody", {});
    const grid = table([["Name"], ["Saved"], [""]], body);
    const note = h("p", { class: "error", role: "alert" });
    async function load() {
      try {
        const { snapshots } = await api("GET", "/console/api/snapshots");
        body.replaceChildren(...snapshots.map((s) => h("tr", { "data-name": s.name },
          h("td", { class: "mono" }, s.name), h("td", {}, time(s.saved)),
          h("td", {},
            h("button", { type: "button", onclick: (e) => act(e.target, () => api("POST", `/console/api/snapshots/${encodeURIComponent(s.name)}/restore`), `Restored ${s.name}`) }, "Restore"), " ",
            h("button", { type: "button", class: "danger", onclick: (e) => act(e.target, () => api("DELETE", `/console/api/snapshots/${encodeURIComponent(s.name)}`), `Deleted ${s.name}`).then(load) }, "Delete")))));
        if (snapshots.length === 0) body.append(h("tr", {}, h("td", { colspan: 3, class: "muted" }, "No snapshots.")));
      } catch (error) {
        note.textContent = error.message;
      }
    }
    const name = h("input", { id: "snapshot-name", name: "name", required: true, pattern: "[A-Za-z0-9_.\\-]{1,64}", placeholder: "base" });
    main.replaceChildren(heading("Snapshots"),
      h("p", { class: "muted" }, "A snapshot holds every project's servers, disks, networks and jobs (not the fault rules); restoring puts them back exactly."),
      h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); act(e.submitter, () => api("POST", "/console/api/snapshots", { name: name.value }), `Saved ${name.value}`).then(load); } },
        h("label", {}, "Name", name), h("button", { type: "submit" }, "Save a snapshot")),
      note, grid);
    await load();
  },
};

// Clock: ecsd's simulated time; advance it, or settle every pending transition.
views.clock = {
  title: "Clock",
  async render() {
    const now = h("div", { class: "clock-now", role: "status" });
    let offset = 0;
    const show = (answer) => { offset = new Date(answer.now).getTime() - Date.now(); tick(); };
    const tick = () => { now.textContent = time(new Date(Date.now() + offset).toISOString()); };
    // The time is read before the view is drawn: a drawn clock never shows an empty reading.
    const first = await api("GET", "/console/api/clock");
    const seconds = h("input", { id: "advance-seconds", type: "number", min: 0, max: 31536000, step: "any", value: "60", required: true });
    main.replaceChildren(heading("Clock"),
      h("div", { class: "panel" }, h("p", { class: "muted" }, "ecsd's clock (jobs, timers, scheduled events and the recycle bin run on it):"), now),
      h("form", { class: "toolbar panel", onsubmit: (e) => { e.preventDefault(); act(e.submitter, async () => show(await api("POST", "/console/api/clock/advance", { seconds: Number(seconds.value) })), `Advanced ${seconds.value} s`); } },
        h("label", {}, "Seconds", seconds), h("button", { type: "submit" }, "Advance")),
      h("div", { class: "panel" }, h("p", { class: "muted" }, "Settle finishes every pending transition of the project now."),
        h("button", { type: "button", id: "settle", onclick: (e) => act(e.target, async () => show(await api("POST", "/console/api/clock/settle")), "Settled") }, "Settle")));
    show(first);
    const timer = setInterval(tick, 1000);
    this.leave = () => clearInterval(timer);
  },
};

// Connect: the endpoint and credential, and how each client is pointed at them.
views.connect = {
  title: "Connect",
  async render() {
    const me = await api("GET", "/console/api/me");
    const endpoint = location.origin;
    const copy = (text) => h("button", { type: "button", class: "quiet", onclick: (e) => copyText(text, e.target) }, "Copy");
    const row = (label, text) => h("div", { class: "copy-row" }, h("strong", {}, label), h("code", {}, text), copy(text));
    const snippet = (title, text) => h("section", {}, h("h2", {}, title), h("pre", { class: "snippet" }, text), copy(text));
    const secret = "SECRET_KEY";
    main.replaceChildren(heading("Connect"),
      h("div", { class: "panel" },
        row("Endpoint", endpoint), row("Project id", me.project_id), row("Access key", me.access_key), row("Region", me.region),
        h("p", { class: "muted" }, "The secret key is never shown again: it is the one ecsd printed at its first start (kept in the data dir's bootstrap-credential.json), or the one configured for the key.")),
      snippet("Python SDK", `from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkecs.v2 import EcsClient, ListServersDetailsRequest

auth = BasicCredentials("${me.access_key}", "${secret}", "${me.project_id}")
ecs = EcsClient.new_builder().with_credentials(auth).with_endpoint("${endpoint}").build()
print(ecs.list_servers_details(ListServersDetailsRequest()).count)`),
      snippet("Node SDK", `const { BasicCredentials } = require("@huaweicloud/huaweicloud-sdk-core");
const ecs = require("@huaweicloud/huaweicloud-sdk-ecs");

const auth = new BasicCredentials().withAk("${me.access_key}").withSk("${secret}").withProjectId("${me.project_id}");
const client = ecs.EcsClient.newBuilder().withCredential(auth).withEndpoint("${endpoint}").build();
client.listServersDetails(new ecs.ListServersDetailsRequest()).then((r) => console.log(r.count));`),
      snippet("clouds.yaml (a [[users]] password user of the config file)", `clouds:
  ecsd:
    auth:
      auth_url: ${endpoint}/v3
      username: alice
      password: "..."
      project_name: ${me.region}
      user_domain_name: Default
      project_domain_name: Default
    region_name: ${me.region}
    identity_api_version: 3`),
      snippet("ecsd ctl", `export ECSD_ENDPOINT=${endpoint}
export ECSD_ACCESS_KEY=${me.access_key} ECSD_SECRET_KEY=${secret} ECSD_PROJECT_ID=${me.project_id}
ecsd ctl faults list`));
  },
};

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h("textarea", {}, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1500);
}

// ---------------------------------------------------------------- routing

let current = null;
async function route() {
  const [name, arg] = (location.hash.replace(/^#\/?/, "") || "fleet").split("/");
  const view = views[name === "server" ? "server" : name] || views.fleet;
  if (current && current.leave) current.leave();
  if (current) { current.onEvent = null; current.leave = null; }
  current = view;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === (name === "server" ? "fleet" : name)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${view.title} · ecsd console`;
  try {
    await view.render(arg && decodeURIComponent(arg));
  } catch (error) {
    main.replaceChildren(heading(view.title), h("p", { class: "error" }, error.message));
  }
  const title = main.querySelector("h1");
  if (title && document.activeElement === document.body) title.focus();
}

trail.listeners.add((event) => { if (current && current.onEvent) current.onEvent(event); });

document.getElementById("sign-out").addEventListener("click", async () => {
  await act(null, () => api("POST", "/console/api/sign-out"));
  location.assign("/console");
});

document.addEventListener("keydown", (event) => {
  // "/" jumps to the fleet's search box, as in many consoles.
  if (event.key === "/" && !["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) {
    const search = document.getElementById("fleet-search");
    if (search) { event.preventDefault(); search.focus(); }
  }
});

window.addEventListener("hashchange", route);
api("GET", "/console/api/me").then((me) => {
  document.getElementById("who").textContent = `project ${me.project_id}${me.admin ? " · admin" : ""}`;
}).catch(() => {});
connect();
route();
