// Permission matrix: when a box cannot be saved (network error, server error, expired session),
// put it back as it was and say so in place. Successful saves are answered by the server (htmx swap).
(function () {
  "use strict";

  function statusLine(text) {
    var line = document.getElementById("matrix-status");
    if (line) {
      line.textContent = text;
    }
  }

  function markFailed(evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.matches) {
      return;
    }
    if (elt.matches("[data-matrix-cell]")) {
      elt.checked = !elt.checked;
      var cell = elt.closest("td");
      var status = cell && cell.querySelector("[data-cell-status]");
      if (status) {
        status.textContent = "Failed";
        status.className = "cell-status cell-status-failed";
      }
      statusLine("Not saved: the server did not accept the change. Try again.");
    } else if (elt.matches("button[name=bulk]")) {
      statusLine("Not saved: the server did not accept the change. Try again.");
    }
  }

  document.addEventListener("htmx:responseError", markFailed);
  document.addEventListener("htmx:sendError", markFailed);
})();
