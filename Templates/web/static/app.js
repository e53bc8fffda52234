// Refreshes a running batch's progress on /batches/ID in place from /batches/ID/live (a
// server-rendered fragment, same origin), until the batch is done. The page is complete without it.
"use strict";
(function () {
  document.documentElement.classList.add("js");
  var live = document.getElementById("batch-live");
  if (!live || live.dataset.live !== "true") return;
  var url = "/batches/" + encodeURIComponent(live.dataset.batch) + "/live";
  function refresh() {
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return setTimeout(refresh, 5000);
        document.getElementById("batch-live").outerHTML = html;
        if (document.getElementById("batch-live").dataset.live === "true") setTimeout(refresh, 2000);
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
