// Keeps the dashboard live: re-renders the server-rendered parts from the /events stream.
// Data only ever reaches the page through textContent, never as HTML.
"use strict";

(function () {
  const TOTALS = ["issued", "waiting", "called", "finished", "no_show", "windows_open"];
  const DASH = "—";
  const RECONNECT_MS = 5000;
  const body = document.body;
  const statusLabels = JSON.parse(body.dataset.statusLabels);
  const awayLimitS = Number(body.dataset.awayLimitS);
  const alertWaitS = Number(body.dataset.alertWaitS);
  const alertQueue = Number(body.dataset.alertQueue);
  const byId = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function renderTotals(queue) {
    for (const key of TOTALS) {
      byId("total-" + key).textContent = queue ? String(queue[key]) : DASH;
    }
    byId("no-data").hidden = queue !== null;
    byId("services-table").hidden = queue === null;
  }

  function renderServices(queue) {
    const rows = (queue ? queue.services : []).map((s) => {
      const longWait = s.longest_wait_s > alertWaitS;
      const longQueue = s.waiting > alertQueue;
      const tr = el("tr", null, longWait || longQueue ? "alert" : "");
      const name = el("td", s.name);
      if (longWait) name.append(" ", el("span", "等候超过" + Math.floor(alertWaitS / 60) + "分钟", "flag"));
      if (longQueue) name.append(" ", el("span", "排队超过" + alertQueue + "人", "flag"));
      tr.append(
        name,
        el("td", s.prefix, "prefix"),
        el("td", s.waiting, "num"),
        el("td", s.open_windows, "num"),
      );
      return tr;
    });
    byId("services").replaceChildren(...rows);
  }

  function renderWindows(windows) {
    const rows = windows.map((w) => {
      const known = Object.prototype.hasOwnProperty.call(statusLabels, w.status);
      const tr = el("tr", null, known ? "status-" + w.status : "");
      const name = el("td");
      name.append(el("span", w.window, "window-no"), " ", el("span", w.name, "window-name"));
      const serving = w.status === "serving" && w.serving ? w.serving : DASH;
      const status = el("td", known ? statusLabels[w.status] : w.status, "status");
      if (w.status === "paused" && w.pause_reason) {
        status.append(" ", el("span", w.pause_reason, "detail"));
      } else if (w.status === "away") {
        if (w.away_post) status.append(" ", el("span", w.away_post + "岗", "detail"));
        const timer = el("span", "", "timer");
        timer.dataset.since = w.paused_since;
        status.append(" ", timer);
      }
      tr.append(name, status, el("td", serving, "serving"));
      return tr;
    });
    if (rows.length === 0) {
      const td = el("td", "暂无窗口数据", "empty");
      td.colSpan = 3;
      const tr = el("tr");
      tr.append(td);
      rows.push(tr);
    }
    byId("windows").replaceChildren(...rows);
  }

  // Each device's own report: offline, or its printer out of paper or silent, in red; a
  // registered device by its name, also when it has not come up today (未上线).
  function renderDevices(devices) {
    const rows = (devices || []).map((d) => {
      const tr = el("tr", null, d.problem ? "alert" : "");
      const name = el("td", (d.name || d.class_zh) + " ");
      name.append(el("span", d.name ? d.class_zh : d.device_id, "window-name"));
      const status = el("td", d.problem || "正常", "status");
      if (d.name && d.problem === "离线" && d.seen_at) {
        status.append(" ", el("span", "最后在线" + d.seen_at.slice(11, 16), "detail"));
      }
      tr.append(name, status);
      return tr;
    });
    if (rows.length === 0) {
      const td = el("td", "暂无设备上报", "empty");
      td.colSpan = 2;
      const tr = el("tr");
      tr.append(td);
      rows.push(tr);
    }
    byId("devices").replaceChildren(...rows);
  }

  // The latest calls, newest first, with the hall's time of each (recalls too).
  function renderCalls(calls) {
    const rows = (calls || []).map((c) => {
      const tr = el("tr");
      tr.append(el("td", c.at.slice(11, 16)), el("td", c.number, "serving"), el("td", c.name));
      return tr;
    });
    if (rows.length === 0) {
      const td = el("td", "今天还没有叫号", "empty");
      td.colSpan = 3;
      const tr = el("tr");
      tr.append(td);
      rows.push(tr);
    }
    byId("calls").replaceChildren(...rows);
  }

  function render(state) {
    renderTotals(state.queue);
    renderServices(state.queue);
    renderWindows(state.windows);
    renderCalls(state.calls);
    renderDevices(state.devices);
    tickTimers();
  }

  // How long each away post has been gone; red past the hall's limit (3 minutes by default).
  function tickTimers() {
    for (const timer of document.querySelectorAll(".timer[data-since]")) {
      const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(timer.dataset.since)) / 1000));
      const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
      const ss = String(seconds % 60).padStart(2, "0");
      timer.textContent = mm + ":" + ss;
      timer.classList.toggle("overdue", seconds > awayLimitS);
    }
  }
  setInterval(tickTimers, 1000);

  function showConnection(ok) {
    const conn = byId("conn");
    conn.hidden = false;
    conn.textContent = ok ? "实时连接正常" : "连接中断，正在重连…";
    conn.className = ok ? "conn ok" : "conn down";
  }

  function connect() {
    const source = new EventSource(body.dataset.eventsUrl);
    source.addEventListener("open", () => showConnection(true));
    source.addEventListener("message", (event) => {
      let state;
      try {
        state = JSON.parse(event.data);
      } catch (err) {
        console.error("dashboard: unreadable event", err);
        return;
      }
      showConnection(true);
      render(state);
    });
    source.addEventListener("error", () => {
      showConnection(false);
      // The browser retries by itself unless the stream was refused (e.g. hub restarting
      // behind a proxy answering 502); then it gives up, so start over ourselves.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connect, RECONNECT_MS);
      }
    });
  }

  if ("EventSource" in window) connect();
})();
