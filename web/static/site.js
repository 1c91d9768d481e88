// site.js — progressive enhancement for the hotline pages. Every page works
// without it; with it, desks update live (server-sent events), deadlines
// count down, and long pickers can be filtered by typing. No inline script,
// no dependencies.
(function () {
  "use strict";
  var en = document.documentElement.lang === "en";

  // --- Live updates -------------------------------------------------------
  var live = document.getElementById("live");
  var src = document.body.getAttribute("data-live");
  if (src && window.EventSource && live) {
    var list = document.querySelector("[data-refresh]");
    var order = document.querySelector("[data-order]");
    var timer = null, es = null;
    var onOrder = function (ev) {
      var parts = ev.data.split(" "), number = parts[0], version = parts[1];
      if (order && order.getAttribute("data-order") === number) {
        if (version !== order.getAttribute("data-version")) showOrderChanged();
      } else if (list) {
        clearTimeout(timer);
        timer = setTimeout(refreshList, 600); // one refresh for a burst
      }
    };
    // A stream holds a connection: browsers allow six per site over
    // HTTP/1.1, so only visible pages listen, and leaving a page closes it.
    var connect = function () {
      if (es || !(list || order) || document.visibilityState !== "visible") return;
      es = new EventSource(src);
      es.addEventListener("order", onOrder);
    };
    var disconnect = function () { if (es) { es.close(); es = null; } };
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") connect(); else disconnect();
    });
    window.addEventListener("pagehide", disconnect);
    window.addEventListener("pageshow", connect);
    connect();
    var refreshList = function () {
      fetch(location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("[data-refresh]");
          if (!fresh) return;
          list.innerHTML = fresh.innerHTML;
          startCountdowns(list);
          live.textContent = live.getAttribute("data-list-msg");
          live.hidden = false;
          setTimeout(function () { live.hidden = true; }, 4000);
        })
        .catch(function () {});
    };
    var showOrderChanged = function () {
      live.textContent = live.getAttribute("data-order-msg") + " ";
      var a = document.createElement("a");
      a.href = location.pathname;
      a.textContent = live.getAttribute("data-reload");
      live.appendChild(a);
      live.hidden = false;
    };
  }

  // --- Countdowns ---------------------------------------------------------
  // Working time only runs on weekdays 08:30–12:00 and 13:30–17:30 China
  // time (holidays are the server's business: every refresh corrects it).
  function workingNow(d) {
    var cst = new Date(d.getTime() + (d.getTimezoneOffset() + 480) * 60000);
    var day = cst.getDay(), m = cst.getHours() * 60 + cst.getMinutes();
    if (day === 0 || day === 6) return false;
    return (m >= 510 && m < 720) || (m >= 810 && m < 1050);
  }
  function fmt(ms) {
    var late = ms < 0, a = Math.abs(ms);
    var h = Math.floor(a / 3600000), m = Math.floor(a % 3600000 / 60000), s;
    if (late && h >= 24) s = en ? Math.floor(h / 24) + "d " + h % 24 + "h" : Math.floor(h / 24) + "天" + h % 24 + "小时";
    else if (h > 0) s = en ? h + "h " + m + "m" : h + "小时" + m + "分";
    else s = en ? m + "m" : m + "分钟";
    if (late) return en ? "overdue " + s : "超期" + s;
    return en ? s + " left" : "剩余" + s;
  }
  var clocks = [];
  function startCountdowns(root) {
    clocks = clocks.filter(function (c) { return document.body.contains(c.el); });
    root.querySelectorAll(".countdown[data-ms]").forEach(function (el) {
      clocks.push({ el: el, ms: parseInt(el.getAttribute("data-ms"), 10) || 0 });
    });
  }
  startCountdowns(document);
  setInterval(function () {
    var now = new Date();
    clocks.forEach(function (c) {
      if (c.ms <= 0 || workingNow(now)) c.ms -= 60000;
      c.el.textContent = fmt(c.ms);
      if (c.ms < 0) c.el.classList.add("red-text");
    });
  }, 60000);

  // --- Filterable pickers -------------------------------------------------
  document.querySelectorAll("input.picker-filter[data-filter]").forEach(function (input) {
    var sel = document.getElementById(input.getAttribute("data-filter"));
    if (!sel) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase(), first = null;
      Array.prototype.forEach.call(sel.options, function (o) {
        var hit = !q || o.value === "" || o.text.toLowerCase().indexOf(q) >= 0 || o.value.indexOf(q) === 0;
        o.hidden = !hit;
        if (hit && !first && o.value !== "") first = o;
      });
      if (q && first && !sel.multiple) sel.value = first.value;
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); sel.focus(); }
    });
  });
  document.querySelectorAll("input.tree-filter[data-tree]").forEach(function (input) {
    var tree = document.getElementById(input.getAttribute("data-tree"));
    if (!tree) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      tree.querySelectorAll("li").forEach(function (li) {
        li.hidden = q !== "" && li.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
})();
