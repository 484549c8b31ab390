// cairn console: the project's own script, no dependencies. Pages work
// without it; with it, times read in the browser's zone and running jobs
// update live from the server's event stream.
(function () {
  "use strict";

  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) {
        t.textContent = fmt.format(d);
      }
    });
  }

  function timeElement(iso) {
    var t = document.createElement("time");
    var d = new Date(iso);
    t.setAttribute("datetime", iso);
    t.title = d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
    t.textContent = fmt.format(d);
    return t;
  }

  function update(p) {
    document.querySelectorAll('[data-job="' + p.key + '"]').forEach(function (row) {
      row.querySelectorAll("[data-field]").forEach(function (el) {
        var f = el.getAttribute("data-field");
        if (f === "stateHtml") {
          // Server-made: a fixed badge with an escaped state name.
          el.innerHTML = p.stateHtml;
        } else if (f === "completed") {
          if (p.completed) {
            el.replaceChildren(timeElement(p.completed));
          }
        } else if (f in p && p[f] !== undefined) {
          el.textContent = p[f] || (f === "rate" ? "" : "—");
        }
      });
      row.setAttribute("data-state", p.state);
    });
  }

  function follow() {
    var keys = {};
    document.querySelectorAll("[data-live]").forEach(function (el) {
      el.getAttribute("data-live").split(",").forEach(function (k) {
        if (k) {
          keys[k] = true;
        }
      });
    });
    var q = [];
    Object.keys(keys).slice(0, 100).forEach(function (k) {
      var i = k.indexOf(":");
      q.push(encodeURIComponent(k.slice(0, i)) + "=" + encodeURIComponent(k.slice(i + 1)));
    });
    if (!q.length || !window.EventSource) {
      return;
    }
    var es = new EventSource("/console/events?" + q.join("&"));
    document.documentElement.setAttribute("data-stream", "open");
    es.addEventListener("progress", function (e) {
      update(JSON.parse(e.data));
    });
    es.addEventListener("end", function () {
      es.close();
      document.documentElement.setAttribute("data-stream", "ended");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    follow();
  });
})();
