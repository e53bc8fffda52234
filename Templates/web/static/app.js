// Refreshes a running batch's counts on /batches/ID. The page is complete without it.
"use strict";
(function () {
  document.documentElement.classList.add("js");
  var section = document.getElementById("batch");
  if (!section || section.dataset.live !== "true") return;
  var id = section.dataset.batch;
  function refresh() {
    fetch("/api/batches/" + encodeURIComponent(id), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (batch) {
        if (!batch) return;
        var statuses = batch.statuses || {};
        var total = 0, waiting = 0;
        document.querySelectorAll("[data-status]").forEach(function (cell) {
          var n = statuses[cell.dataset.status] || 0;
          cell.textContent = String(n);
        });
        Object.keys(statuses).forEach(function (key) {
          total += statuses[key];
          if (key === "queued" || key === "sending") waiting += statuses[key];
        });
        var progress = document.getElementById("progress");
        progress.max = total;
        progress.value = total - waiting;
        document.getElementById("done").textContent = String(total - waiting);
        document.getElementById("total").textContent = String(total);
        if (waiting > 0 || !batch.complete) setTimeout(refresh, 2000);
      })
      .catch(function () { setTimeout(refresh, 5000); });
  }
  setTimeout(refresh, 1000);
})();

// Refreshes the monitoring page's tiles and charts in place from /monitoring/live (a server-
// rendered fragment, same origin), instead of reloading the page.
(function () {
  var live = document.getElementById("monitoring-live");
  if (!live) return;
  function refresh() {
    fetch("/monitoring/live", { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) document.getElementById("monitoring-live").outerHTML = html;
        setTimeout(refresh, 10000);
      })
      .catch(function () { setTimeout(refresh, 30000); });
  }
  setTimeout(refresh, 10000);
})();
