// sageforge Studio's small helpers: polling, log tails, Plotly, inline validation, progress.
"use strict";
window.sf = (function () {
  /** Call fn(json) now and every `ms` until fn returns false; returns a stop function. */
  function poll(url, ms, fn) {
    let stopped = false, timer = null;
    async function tick() {
      if (stopped) return;
      let again = true;
      try {
        const r = await fetch(typeof url === "function" ? url() : url, { headers: { Accept: "application/json" } });
        if (r.ok) again = (await fn(await r.json())) !== false;
      } catch (e) { /* the server may be restarting: try again later */ }
      if (again && !stopped) timer = setTimeout(tick, document.hidden ? ms * 4 : ms);
    }
    tick();
    return function () { stopped = true; clearTimeout(timer); };
  }

  /** Append a job's log to <pre id=el> as it grows (`/logs?offset=`), until it completes. */
  function logTail(el, url, ms) {
    const pre = typeof el === "string" ? document.getElementById(el) : el;
    let offset = 0;
    return poll(() => url + (url.includes("?") ? "&" : "?") + "offset=" + offset, ms || 2000, (body) => {
      if (body.text) {
        const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 30;
        if (pre.dataset.empty) { pre.textContent = ""; delete pre.dataset.empty; }
        pre.textContent += body.text;
        if (atBottom) pre.scrollTop = pre.scrollHeight;
      }
      offset = body.next_offset;
      if (body.complete && pre.dataset.empty) pre.textContent = "The log is empty.";
      return !body.complete;
    });
  }

  /** Draw the Plotly figure whose JSON sits in <script id="{id}-data">. */
  function plot(id) {
    const draw = () => {
      const el = document.getElementById(id), data = document.getElementById(id + "-data");
      if (!el || !data || !window.Plotly) return;
      const fig = JSON.parse(data.textContent);
      const layout = Object.assign({ margin: { t: 30, r: 20, b: 40, l: 50 }, autosize: true }, fig.layout || {});
      window.Plotly.newPlot(el, fig.data || [], layout, { responsive: true, displaylogo: false });
    };
    if (document.readyState === "complete") draw(); else window.addEventListener("load", draw);
  }

  /** Redraw per-round metric charts in `containerId` from the metrics API's {name: [{step, value}]}. */
  function metricCharts(containerId, metrics) {
    const box = document.getElementById(containerId);
    if (!box || !window.Plotly) return;
    const groups = {};
    for (const [name, series] of Object.entries(metrics || {})) {
      const cut = name.lastIndexOf(":");
      const metric = cut >= 0 ? name.slice(cut + 1) : name, channel = cut >= 0 ? name.slice(0, cut) : name;
      (groups[metric] = groups[metric] || []).push([channel, series]);
    }
    const colours = ["#1f5fbf", "#d9480f", "#2b8a3e", "#7048e8", "#c2255c", "#0b7285"];
    Object.keys(groups).sort().forEach((metric, i) => {
      const id = "metric-" + i;
      let el = document.getElementById(id);
      if (!el) {
        const panel = document.createElement("div");
        panel.className = "panel";
        el = document.createElement("div");
        el.id = id; el.className = "plot"; el.style.minHeight = "320px";
        el.setAttribute("role", "img"); el.setAttribute("aria-label", metric + " per round");
        panel.appendChild(el); box.appendChild(panel);
        const none = document.getElementById("no-metrics"); if (none) none.remove();
      }
      const data = groups[metric].sort().map(([channel, series], j) => ({
        type: "scatter", mode: series.length < 60 ? "lines+markers" : "lines", name: channel,
        x: series.map((p) => p.step), y: series.map((p) => p.value), line: { color: colours[j % colours.length] },
      }));
      window.Plotly.react(el, data, {
        title: { text: metric, font: { size: 14 }, x: 0.01, xanchor: "left" }, xaxis: { title: { text: "round" } }, yaxis: { title: { text: metric } },
        legend: { orientation: "h", y: -0.25 }, margin: { t: 40, r: 20, b: 60, l: 60 }, autosize: true,
      }, { responsive: true, displaylogo: false });
    });
  }

  /** Show `message` (or clear it) as the inline error of input `input`. */
  function setError(input, message) {
    const box = document.getElementById(input.id + "-error");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
    const wrap = input.closest(".field");
    if (message) {
      input.setAttribute("aria-invalid", "true");
      const ids = new Set((input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
      ids.add(box.id);
      input.setAttribute("aria-describedby", Array.from(ids).join(" "));
      if (wrap) wrap.classList.add("has-error");
    } else {
      input.removeAttribute("aria-invalid");
      if (wrap) wrap.classList.remove("has-error");
    }
  }

  /**
   * Validate `form` as the user types: POST its fields to `url` (debounced); the answer
   * {"errors": {name: message}} marks each field. `onResult(body)` sees every answer.
   */
  function validateAsYouType(form, url, onResult) {
    let timer = null, seq = 0;
    async function check() {
      const mine = ++seq;
      try {
        const r = await fetch(url, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" } });
        if (mine !== seq) return;
        const body = await r.json();
        const errors = body.errors || {};
        for (const input of form.querySelectorAll("[name]")) {
          if (input.type === "hidden" || input.type === "submit") continue;
          setError(input, errors[input.name] || "");
        }
        if (onResult) onResult(body);
      } catch (e) { /* offline for a moment: the submit will validate anyway */ }
    }
    const later = () => { clearTimeout(timer); timer = setTimeout(check, 350); };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    return check;
  }

  /** Upload `file` with a visible progress bar; resolves with the parsed JSON answer. */
  function upload(url, file, progressEl, statusEl) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        progressEl.max = e.total; progressEl.value = e.loaded;
        if (statusEl) statusEl.textContent = "Uploading… " + Math.round((100 * e.loaded) / e.total) + "%";
      };
      xhr.upload.onload = () => { if (statusEl) statusEl.textContent = "Registering the dataset…"; };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status < 400) resolve(body); else reject(body);
      };
      xhr.onerror = () => reject({ errors: { _: "The upload was interrupted." } });
      xhr.send(file);
    });
  }

  /** Make every table with class "sortable" sortable by clicking (or Enter on) a header. */
  function sortableTables() {
    for (const table of document.querySelectorAll("table.sortable")) {
      const heads = table.querySelectorAll("thead th");
      heads.forEach((th, i) => {
        const b = document.createElement("button");
        b.type = "button"; b.className = "sort"; b.textContent = th.textContent;
        th.textContent = ""; th.appendChild(b);
        b.addEventListener("click", () => {
          const asc = th.getAttribute("aria-sort") !== "ascending";
          heads.forEach((h) => h.removeAttribute("aria-sort"));
          th.setAttribute("aria-sort", asc ? "ascending" : "descending");
          const body = table.tBodies[0];
          const rows = Array.from(body.rows);
          const key = (r) => { const c = r.cells[i]; const v = c.dataset.value ?? c.textContent.trim(); const n = parseFloat(v); return isNaN(n) ? v : n; };
          rows.sort((a, b2) => { const x = key(a), y = key(b2); const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y)); return asc ? c : -c; });
          rows.forEach((r) => body.appendChild(r));
        });
      });
    }
  }
  document.addEventListener("DOMContentLoaded", sortableTables);

  return { poll, logTail, plot, metricCharts, setError, validateAsYouType, upload };
})();
