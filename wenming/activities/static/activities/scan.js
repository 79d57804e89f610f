/* Wenming: the check-in / check-out page the QR code opens, and the queue of scans taken offline.
 *
 * A press takes the moment (on the server's clock: the page carries the server's time when it was
 * made), asks once for the position (10 s at most; refused or unavailable: no position), gives the
 * scan its own id, and posts {token, scan_id, lat, lng, scanned_at} to the API. When the network
 * fails the scan waits in localStorage with its id and moment, and is sent again when the phone is
 * back online or on the next visit of a page that loads this file; the server applies a scan id
 * once, so a copy sent twice does no harm. Scans are kept per account: another person logging in
 * on the same phone never sends them. No library, plain ES5 plus fetch.
 */
(function () {
  "use strict";
  var KEY = "wenming.pendingScans.v1";
  var RETRY = { 0: 1, 401: 1, 408: 1, 429: 1, 500: 1, 502: 1, 503: 1, 504: 1 };
  var queueBox = document.getElementById("scan-queue");
  if (!queueBox || !window.fetch) return;
  var csrf = queueBox.getAttribute("data-csrf");
  var S = {};
  try { S = JSON.parse(document.getElementById("scan-strings").textContent); } catch (e) { /* English fallbacks below */ }
  function t(key, fallback, value) { return (S[key] || fallback).replace("%s", value == null ? "" : value); }
  var user = queueBox.getAttribute("data-user");
  var flushing = false;

  function load() {
    try { var list = JSON.parse(localStorage.getItem(KEY) || "[]"); return Array.isArray(list) ? list : []; }
    catch (e) { return []; }
  }
  function store(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list)); return true; } catch (e) { return false; }
  }
  function say(box, cls, title, text) {
    box.innerHTML = "";
    var div = document.createElement("div");
    div.className = "status-box " + cls;
    var b = document.createElement("b");
    b.textContent = title;
    div.appendChild(b);
    if (text) { var p = document.createElement("p"); p.textContent = text; div.appendChild(p); }
    box.appendChild(div);
  }
  function scanId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16), out = "";
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    for (var j = 0; j < 16; j++) out += ("0" + bytes[j].toString(16)).slice(-2);
    return out;
  }
  // Post one scan. Resolves {ok, status, data} or {ok:false, status:0} when the network failed.
  function send(item) {
    return fetch(item.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(item.body)
    }).then(function (r) {
      return r.json().then(function (d) { return { ok: r.ok, status: r.status, data: d }; },
                           function () { return { ok: r.ok, status: r.ok ? r.status : (r.status || 502), data: null }; });
    }, function () { return { ok: false, status: 0, data: null }; });
  }
  function message(res, fallback) {
    return (res.data && res.data.message) || fallback;
  }

  // --- The queue of scans kept while offline ---------------------------------------------------
  function flush() {
    if (flushing || navigator.onLine === false) return;
    var mine = load().filter(function (it) { return it.user === user; });
    if (!mine.length) return;
    flushing = true;
    var done = [], lines = [], loginNeeded = false;
    var chain = Promise.resolve();
    mine.forEach(function (item) {
      chain = chain.then(function () {
        return send(item).then(function (res) {
          if (res.ok) { done.push(item); lines.push(message(res, item.word)); return; }
          if (res.status === 401) loginNeeded = true;
          if (RETRY[res.status] || (res.data && res.data.code === "csrf_failed")) return;
          done.push(item);  // refused for good: say why, and forget it
          lines.push(t("refused", "Not accepted: %s", item.title + " " + item.word + " · " + message(res, "")));
        });
      });
    });
    chain.then(function () {
      flushing = false;
      var ids = done.map(function (it) { return it.body.scan_id; });
      store(load().filter(function (it) { return ids.indexOf(it.body.scan_id) < 0; }));
      if (lines.length) say(queueBox, "ok", t("flushed", "Saved scans sent"), lines.join("\n"));
      else if (loginNeeded) say(queueBox, "wait", t("pending", "Saved scans waiting"), t("login_text", "Please log in again."));
      if (done.length) document.dispatchEvent(new CustomEvent("wenming:scans-flushed", { detail: done }));
    });
  }
  window.addEventListener("online", flush);
  flush();

  // --- The scan page ---------------------------------------------------------------------------
  var form = document.getElementById("scan-form");
  if (!form) return;
  var btn = document.getElementById("scan-btn");
  var result = document.getElementById("scan-result");
  var word = form.getAttribute("data-word");
  var offset = parseInt(form.getAttribute("data-now"), 10) - Date.now();  // server clock − phone clock
  var slot = parseInt(form.getAttribute("data-slot"), 10) || 30;
  var token = form.elements.token.value;
  var label = btn.textContent;
  btn.disabled = false;

  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      var settled = false;
      var timer = setTimeout(function () { if (!settled) { settled = true; resolve(null); } }, 10000);
      navigator.geolocation.getCurrentPosition(function (p) {
        if (settled) return; settled = true; clearTimeout(timer);
        resolve({ lat: p.coords.latitude, lng: p.coords.longitude });
      }, function () {
        if (settled) return; settled = true; clearTimeout(timer); resolve(null);
      }, { enableHighAccuracy: true, timeout: 9000, maximumAge: 0 });
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (btn.disabled) return;
    btn.disabled = true;
    var moment = Date.now() + offset;
    var expired = Math.floor(moment / 1000 / slot) - parseInt(token.split(".")[0], 10) > 1;
    if (expired) {
      say(result, "err", t("expired", "Code expired"), t("expired_text", "Scan the latest code again."));
      btn.textContent = label;
      return;
    }
    btn.textContent = t("locating", "Locating…");
    position().then(function (pos) {
      btn.textContent = t("sending", "Sending…");
      var item = {
        user: user, url: form.getAttribute("data-api"), title: form.getAttribute("data-title"), word: word,
        saved_at: new Date().toISOString(),
        body: { token: token, scan_id: scanId(), lat: pos ? pos.lat : null, lng: pos ? pos.lng : null,
                scanned_at: new Date(moment).toISOString() }
      };
      return send(item).then(function (res) {
        if (res.ok) {
          say(result, "ok", message(res, word), t("ok_text", ""));
          btn.textContent = t("done", "Done");
          var state = document.getElementById("scan-state");
          if (state) state.hidden = true;
          return;
        }
        if (res.status === 0 || res.status >= 500 || res.status === 401) {
          var list = load();
          list.push(item);
          if (!store(list)) {
            say(result, "err", t("store_failed", "Offline, and the phone cannot keep the scan"), t("store_failed_text", ""));
            btn.disabled = false; btn.textContent = label;
            return;
          }
          btn.textContent = t("saved_button", "Saved");
          if (res.status === 401) {
            say(result, "wait", t("saved_login", "Saved; sent after you log in"), t("login_text", ""));
            var a = document.createElement("a");
            a.href = queueBox.getAttribute("data-login") + "?next=" + encodeURIComponent(location.pathname + location.search);
            a.className = "btn btn-primary btn-big"; a.textContent = t("relogin", "Log in");
            result.appendChild(a);
          } else {
            say(result, "wait", t("saved", "Saved; sent when back online"),
                t("saved_text", "Scan time: %s", new Date(moment).toTimeString().slice(0, 5)));
          }
          return;
        }
        // A refusal: the service's own message (out of range, not signed up, expired code …).
        say(result, "err", message(res, t("failed", "Failed, please try again")), "");
        btn.disabled = false; btn.textContent = label;
      });
    });
  });

  document.addEventListener("wenming:scans-flushed", function (ev) {
    var here = form.getAttribute("data-api");
    if (ev.detail.some(function (it) { return it.url === here; })) { btn.disabled = true; btn.textContent = t("done", "Done"); }
  });
})();
