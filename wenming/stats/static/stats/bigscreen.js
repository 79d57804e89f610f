/* 数据大屏: draws the charts, then refreshes itself without reloading the page.
 * Every 30 s it asks /stats/live.json for the counters (animated to their new values) and the
 * latest check-ins and needs; every 5 minutes /stats/figures.json for the charts. A failed poll
 * keeps the last data on the wall, says so in the corner, and tries again sooner. */
(function () {
  "use strict";

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var initial = readJSON("screen-initial") || {};
  var poll = readJSON("screen-poll") || {};
  var S = readJSON("screen-strings") || {};
  var state = { live: initial.live || null, charts: initial.charts || null, failures: 0, timer: null, lastOk: null };
  window.WenmingScreen = state;  // for whoever looks at the wall from a console

  // --- numbers

  function format(value, kind) {
    if (value === null || value === undefined || value === "") { return "—"; }
    var n = Number(value);
    if (kind === "rate") { return (n * 100).toFixed(1) + "%"; }
    if (kind === "hours") {
      // Whole hours once they run into thousands: decimals are noise from across a room.
      var digits = Math.abs(n) >= 1000 ? 0 : 1;
      return n.toLocaleString("zh-CN", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    }
    if (kind === "decimal") { return n.toFixed(2); }
    return Math.round(n).toLocaleString("zh-CN");
  }

  function fit(el) {
    // A number wider than its box gets a smaller font, never an ellipsis.
    var box = el.parentNode;
    el.style.fontSize = "";
    var size = parseFloat(window.getComputedStyle(el).fontSize);
    while (box.scrollWidth > box.clientWidth + 1 && size > 12) {
      size -= 2;
      el.style.fontSize = size + "px";
    }
  }

  function animate(el, from, to, kind) {
    if (from === null || to === null || isNaN(from) || isNaN(to) || from === to) {
      el.textContent = format(to, kind);
      fit(el);
      return;
    }
    var start = null;
    var duration = 1200;
    function step(ts) {
      if (start === null) { start = ts; }
      var t = Math.min((ts - start) / duration, 1);
      var eased = 1 - Math.pow(1 - t, 3);
      el.textContent = format(from + (to - from) * eased, kind);
      if (t < 1) { window.requestAnimationFrame(step); } else { el.textContent = format(to, kind); fit(el); }
    }
    window.requestAnimationFrame(step);
  }

  function updateCounters(counters) {
    (counters || []).forEach(function (c) {
      var box = document.querySelector('.counter[data-key="' + c.key + '"]');
      if (!box) { return; }
      var num = box.querySelector(".num");
      var raw = num.getAttribute("data-value");
      var from = raw === "" || raw === null ? null : Number(raw);
      var to = c.value === null || c.value === undefined ? null : Number(c.value);
      num.setAttribute("data-value", to === null ? "" : String(to));
      if (from !== to) {
        box.classList.add("bump");
        setTimeout(function () { box.classList.remove("bump"); }, 1600);
      }
      animate(num, from, to, c.kind);
    });
  }

  // --- feeds

  function when(iso) {
    // "2025-03-05T09:31:07+08:00" → "03-05 09:31" (the server's local time, as sent)
    return String(iso).slice(5, 10) + " " + String(iso).slice(11, 16);
  }

  function cell(tag, text, cls) {
    var el = document.createElement(tag);
    el.textContent = text == null ? "" : String(text);
    if (cls) { el.className = cls; }
    return el;
  }

  function renderFeed(id, rows, build, emptyText) {
    var list = document.getElementById(id);
    if (!list) { return; }
    var seen = {};
    Array.prototype.forEach.call(list.children, function (li) { seen[li.getAttribute("data-key") || li.textContent] = true; });
    var fresh = list.getAttribute("data-drawn") === "1";
    list.textContent = "";
    if (!rows || !rows.length) {
      list.appendChild(cell("li", emptyText, "feed-empty"));
    }
    (rows || []).forEach(function (row) {
      var li = build(row);
      var key = li.textContent;
      li.setAttribute("data-key", key);
      if (fresh && !seen[key]) { li.className = "fresh"; }
      list.appendChild(li);
    });
    list.setAttribute("data-drawn", "1");
    clip(list);
  }

  function clip(list) {
    // Only whole rows: a row cut by the panel's edge is hidden.
    var bottom = list.getBoundingClientRect().bottom;
    Array.prototype.forEach.call(list.children, function (li) {
      li.style.visibility = "";
      if (li.getBoundingClientRect().bottom > bottom + 1) { li.style.visibility = "hidden"; }
    });
  }

  function checkinRow(r) {
    var li = document.createElement("li");
    var t = cell("time", when(r.time));
    t.setAttribute("datetime", r.time);
    li.appendChild(t);
    li.appendChild(cell("b", r.name));
    li.appendChild(cell("span", r.activity, "what"));
    li.appendChild(cell("span", r.station, "where"));
    return li;
  }

  function needRow(r) {
    var li = document.createElement("li");
    var t = cell("time", when(r.time));
    t.setAttribute("datetime", r.time);
    li.appendChild(t);
    li.appendChild(cell("b", r.category));
    li.appendChild(cell("span", r.station, "where"));
    li.appendChild(cell("span", r.state_label, "state state-" + String(r.state).replace(/[^a-z_]/g, "")));
    return li;
  }

  function applyLive(data) {
    state.live = data;
    updateCounters(data.counters);
    renderFeed("feed-checkins", data.checkins, checkinRow, S.no_checkins);
    renderFeed("feed-needs", data.needs, needRow, S.no_needs);
    if (data.period && data.period.label) {
      document.getElementById("screen-period").textContent = data.period.label;
    }
  }

  // --- charts

  function drawCharts(charts) {
    if (!charts || !window.WenmingCharts) { return; }
    state.charts = charts;
    var els = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < els.length; i++) {
      window.WenmingCharts.draw(els[i], els[i].getAttribute("data-chart"), charts, { dark: true, big: true });
    }
  }

  // --- polling

  function status(ok, message) {
    var el = document.getElementById("screen-status");
    if (!el) { return; }
    el.textContent = message;
    el.classList.toggle("stale", !ok);
  }

  function timeOf(iso) { return iso ? String(iso).slice(11, 19) : ""; }

  function fetchJSON(url) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 15000) : null;
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined })
      .then(function (response) {
        if (timer) { clearTimeout(timer); }
        if (response.status === 401 || response.status === 403) {
          var err = new Error("auth");
          err.auth = true;
          throw err;
        }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }, function (error) {
        if (timer) { clearTimeout(timer); }
        throw error;
      });
  }

  function scheduleLive(seconds) {
    clearTimeout(state.timer);
    state.timer = setTimeout(pollLive, seconds * 1000);
  }

  function pollLive() {
    if (!poll.live) { return; }
    fetchJSON(poll.live).then(function (data) {
      state.failures = 0;
      state.lastOk = data.generated_at;
      applyLive(data);
      status(true, (S.updated || "") + " " + timeOf(data.generated_at));
      scheduleLive(poll.live_seconds || 30);
    }).catch(function (error) {
      state.failures += 1;
      var since = timeOf(state.lastOk || (state.live && state.live.generated_at));
      status(false, (error && error.auth ? S.auth : S.failed || "").replace("%(time)s", since));
      // Sooner than usual at first, never more often than every 10 s.
      scheduleLive(Math.min(10 * state.failures, poll.live_seconds || 30));
    });
  }

  function pollFigures() {
    if (!poll.figures) { return; }
    fetchJSON(poll.figures).then(function (data) { drawCharts(data.charts); })
      .catch(function () { /* the charts keep the last figures; the next round tries again */ });
  }

  function serverOffsetMinutes() {
    // The wall shows the district's time (the server's, e.g. +08:00), whatever the PC's zone.
    var iso = (state.live && state.live.generated_at) || "";
    var m = /([+-])(\d{2}):(\d{2})$/.exec(iso);
    if (!m) { return -new Date().getTimezoneOffset(); }
    return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  }

  function tick() {
    var el = document.getElementById("screen-clock");
    if (!el) { return; }
    var d = new Date(Date.now() + serverOffsetMinutes() * 60000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    el.textContent = d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate()) + " " +
      two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds());
  }

  function start() {
    drawCharts(state.charts);
    window.addEventListener("resize", function () {
      ["feed-checkins", "feed-needs"].forEach(function (id) { var l = document.getElementById(id); if (l) { clip(l); } });
    });
    if (state.live) { applyLive(state.live); }
    tick();
    setInterval(tick, 1000);
    scheduleLive(poll.live_seconds || 30);
    if (poll.figures) { setInterval(pollFigures, (poll.figures_seconds || 300) * 1000); }
  }

  window.WenmingScreen.pollNow = pollLive;  // tests and a technician at the wall: refresh at once
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
