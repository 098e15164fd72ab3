/* A ticket on the citizen's phone: asks the hub for its state every few seconds and
   redraws the page the server rendered. After a tap on 开启提醒 (browsers play sound only
   after a tap) it beeps and vibrates once when few people are ahead and once when called.
   Plain ES5 and XMLHttpRequest: cheap phones and in-app browsers run old engines.
   Tests read <html data-alerts> (alerts fired) and data-last-alert: audio cannot be heard. */
(function () {
  "use strict";

  var body = document.body;
  var root = document.documentElement;
  var POLL_MS = (Number(body.getAttribute("data-poll-s")) || 5) * 1000;
  var HIDDEN_MS = 30000; // a page nobody looks at asks far less (a hall has hundreds)
  var MAX_RETRY_MS = 30000;
  var url = location.pathname.replace(/\/+$/, "") + ".json";
  var memoKey = "hallq-alerts:" + location.pathname;
  var state = null;
  var timer = null;
  var busy = false;
  var failures = 0;
  var stopped = false;
  var enabled = false;
  var audio = null;
  var alerts = 0;
  var fired = recall();

  function $(id) { return document.getElementById(id); }

  function show(el, yes) {
    if (yes) { el.removeAttribute("hidden"); } else { el.setAttribute("hidden", ""); }
  }

  function setText(id, text) {
    var el = $(id);
    if (el.textContent !== text) { el.textContent = text; }
  }

  function recall() {
    try { return JSON.parse(sessionStorage.getItem(memoKey) || "{}") || {}; } catch (e) { return {}; }
  }

  function remember() {
    try { sessionStorage.setItem(memoKey, JSON.stringify(fired)); } catch (e) { /* private mode */ }
  }

  function hidden() {
    return document.visibilityState === "hidden" || document.hidden === true;
  }

  // ------------------------------------------------------------ drawing

  function render(t) {
    state = t;
    setText("number", t.number);
    setText("service-name", t.service_name);
    show($("priority"), t.priority);
    setText("status", t.status_zh);
    $("status").className = "status status-" + t.status;
    show($("figures"), t.ahead !== null);
    setText("ahead", t.ahead_zh);
    setText("wait", t.wait_zh);
    setText("note", t.note_zh);
    show($("note"), !!t.note_zh);
    var banner = $("alert");
    setText("alert", t.alert_zh || "");
    banner.className = "alert alert-" + (t.alert || "none");
    show(banner, !!t.alert);
    setText("updated", t.updated_at);
    document.title = (t.status === "called" ? "轮到您了 · " : "") + t.number + " · " + t.status_zh;
    if (t.review && !$("review")) { // finished while open: the page with its review form
      stopped = true;
      location.reload();
      return;
    }
    if (t.final) {
      stopped = true;
      show($("remind"), false);
      show($("remind-hint"), false);
      show($("remind-on"), false);
    }
    alertOnce(t);
  }

  // ------------------------------------------------------------ asking the hub

  function schedule(ms) {
    clearTimeout(timer);
    if (!stopped) { timer = setTimeout(poll, ms); }
  }

  function delay() {
    if (failures) { return Math.min(POLL_MS * Math.pow(2, failures - 1), MAX_RETRY_MS); }
    return hidden() ? HIDDEN_MS : POLL_MS;
  }

  function poll() {
    if (busy || stopped) { return; }
    busy = true;
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url, true);
    xhr.timeout = 8000;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      busy = false;
      var doc = null;
      try { doc = JSON.parse(xhr.responseText); } catch (e) { doc = null; }
      if (xhr.status === 200 && doc && doc.ok) {
        failures = 0;
        show($("conn"), false);
        root.setAttribute("data-polls", String(Number(root.getAttribute("data-polls") || 0) + 1));
        render(doc);
      } else if (xhr.status === 404 && doc && doc.message) {
        stopped = true;
        setText("status", doc.message);
        $("status").className = "status status-missing";
        show($("figures"), false);
        show($("remind"), false);
        show($("remind-hint"), false);
      } else {
        failures += 1;
        show($("conn"), true);
      }
      schedule(delay());
    };
    xhr.send();
  }

  document.addEventListener("visibilitychange", function () {
    if (!hidden() && !stopped) { schedule(0); } // back on screen: fresh at once
  });

  // ------------------------------------------------------------ the alert

  function tone(at, seconds, hz) {
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.9, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(at);
    osc.stop(at + seconds + 0.05);
  }

  function ring(pattern) {
    if (!audio) { return; }
    try {
      if (audio.state === "suspended" && audio.resume) { audio.resume(); }
      var at = audio.currentTime + 0.05;
      for (var i = 0; i < pattern.length; i++) {
        tone(at, 0.35, pattern[i]);
        at += 0.45;
      }
    } catch (e) { /* no sound on this phone: the banner and vibration remain */ }
  }

  function vibrate(pattern) {
    try { if (navigator.vibrate) { navigator.vibrate(pattern); } } catch (e) { /* none */ }
  }

  function alertOnce(t) {
    if (!enabled || !t || !t.alert || fired[t.alert]) { return false; }
    fired[t.alert] = true;
    if (t.alert === "called") {
      fired.near = true; // called: "few ahead" has nothing more to say
      ring([988, 784, 988, 784, 988, 784]);
      vibrate([600, 200, 600, 200, 600]);
    } else {
      ring([880, 880]);
      vibrate([300, 150, 300]);
    }
    remember();
    alerts += 1;
    root.setAttribute("data-alerts", String(alerts));
    root.setAttribute("data-last-alert", t.alert);
    return true;
  }

  $("remind").addEventListener("click", function () {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) {
      try { audio = new Ctx(); } catch (e) { audio = null; }
    }
    enabled = true;
    root.setAttribute("data-remind", "on");
    show($("remind"), false);
    show($("remind-hint"), false);
    show($("remind-on"), true);
    if (!alertOnce(state)) { // a short tone now: it unlocks sound, and says it works
      ring([660]);
      vibrate(80);
    }
    if (navigator.wakeLock && navigator.wakeLock.request) { // HTTPS only: keeps the screen on
      try { navigator.wakeLock.request("screen").then(null, function () {}); } catch (e) { /* */ }
    }
  });

  root.setAttribute("data-alerts", "0");
  try { state = JSON.parse(body.getAttribute("data-ticket")); } catch (e) { state = null; }
  if (state) { render(state); }
  root.setAttribute("data-ready", "1");
  schedule(delay());
}());
