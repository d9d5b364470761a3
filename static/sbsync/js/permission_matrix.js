// Permission matrix: a box shows "Saving…" while its change is on the way, and a click meanwhile is
// queued (sent when the first answer is in), never dropped. A box that cannot be saved goes back as it
// was and says why (ui.js offers to retry). The grid is one Tab stop: arrow keys, Home and End move
// between its boxes and buttons (roving tabindex). A bulk question takes the focus; Cancel removes it.
(function () {
  "use strict";

  var queued = new Map(); // cell id -> number of clicks made while its save was pending

  function cellOf(elt) {
    return elt && elt.closest ? elt.closest("td[id^='cell-']") : null;
  }

  function statusLine(text) {
    var line = document.getElementById("matrix-status");
    if (line) {
      line.textContent = text;
    }
  }

  function setStatus(cell, text, kind) {
    var status = cell && cell.querySelector("[data-cell-status]");
    if (status) {
      status.textContent = text;
      status.className = "cell-status" + (kind ? " cell-status-" + kind : "");
    }
  }

  function isCellBox(elt) {
    return elt && elt.matches && elt.matches("[data-matrix-cell]");
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (isCellBox(elt)) {
      var cell = cellOf(elt);
      cell.classList.add("is-pending");
      cell.setAttribute("aria-busy", "true");
      setStatus(cell, "Saving…", "pending");
    }
  });

  // A click on a box whose save is pending is held back and replayed after the answer.
  document.addEventListener("click", function (evt) {
    var elt = evt.target;
    if (!isCellBox(elt)) {
      return;
    }
    var cell = cellOf(elt);
    if (cell && cell.classList.contains("is-pending")) {
      evt.preventDefault();
      queued.set(cell.id, (queued.get(cell.id) || 0) + 1);
      setStatus(cell, "Queued…", "pending");
    }
  }, true);

  function replayQueued(cellId) {
    var clicks = queued.get(cellId) || 0;
    queued.delete(cellId);
    if (clicks % 2 === 1) {
      var box = document.querySelector("#" + CSS.escape(cellId) + " [data-matrix-cell]");
      if (box) {
        box.click();
      }
    }
  }

  document.addEventListener("htmx:afterSettle", function (evt) {
    var target = evt.detail.target;
    if (target && target.id && target.id.indexOf("cell-") === 0) {
      target.classList.remove("is-pending");
      target.removeAttribute("aria-busy");
      replayQueued(target.id);
    }
    setUpGrid();
    // A bulk question takes the focus (after the swap has put back the focus it had).
    var confirm = document.querySelector("[data-confirm-focus]");
    if (confirm && evt.target.contains(confirm)) {
      setTimeout(function () { confirm.focus(); }, 0);
    }
  });

  function markFailed(evt) {
    var elt = evt.detail.elt;
    var xhr = evt.detail.xhr;
    var expired = xhr && xhr.status === 401;
    if (isCellBox(elt)) {
      elt.checked = !elt.checked;
      var cell = cellOf(elt);
      cell.classList.remove("is-pending");
      cell.removeAttribute("aria-busy");
      queued.delete(cell.id);
      setStatus(cell, "Failed", "failed");
      cell.querySelector("[data-cell-status]").title = expired ? "Your session has expired" : "The server did not accept the change";
    }
    if (isCellBox(elt) || (elt && elt.matches && elt.matches("button[name=bulk], button[name=confirmed], button[name=undo]"))) {
      statusLine(expired
        ? "Not saved: your session has expired. Log in again, then retry."
        : "Not saved: the server did not accept the change. Try again.");
    }
  }

  document.addEventListener("htmx:responseError", markFailed);
  document.addEventListener("htmx:sendError", markFailed);

  // Cancel of a bulk question: remove it without a round trip.
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("[data-dismiss]");
    if (link) {
      var box = document.querySelector(link.dataset.dismiss);
      if (box) {
        evt.preventDefault();
        box.remove();
        statusLine("Nothing changed.");
      }
    }
  });

  // Roving tabindex: one control of the grid is in the Tab order; arrows move it.
  var current = null; // id of the control that holds the grid's tab stop

  function items(grid) {
    return Array.prototype.slice.call(grid.querySelectorAll("[data-grid-item], [data-matrix-cell]"));
  }

  function setUpGrid() {
    var grid = document.querySelector("[data-grid]");
    if (!grid) {
      return;
    }
    var all = items(grid);
    var active = (current && document.getElementById(current)) || all.find(isCellBox) || all[0];
    all.forEach(function (item) { item.tabIndex = item === active ? 0 : -1; });
  }

  function rowItems(tr) {
    return Array.prototype.slice.call(tr.querySelectorAll("[data-grid-item], [data-matrix-cell]"));
  }

  function centre(elt) {
    var r = elt.getBoundingClientRect();
    return r.left + r.width / 2;
  }

  function vertical(grid, from, step) {
    var rows = Array.prototype.slice.call(grid.querySelectorAll("tr")).filter(function (tr) {
      return rowItems(tr).length > 0;
    });
    var index = rows.indexOf(from.closest("tr")) + step;
    if (index < 0 || index >= rows.length) {
      return null;
    }
    var x = centre(from);
    var best = null;
    rowItems(rows[index]).forEach(function (item) {
      if (!best || Math.abs(centre(item) - x) < Math.abs(centre(best) - x)) {
        best = item;
      }
    });
    return best;
  }

  document.addEventListener("keydown", function (evt) {
    var from = evt.target;
    var grid = from.closest && from.closest("[data-grid]");
    if (!grid || !(from.matches("[data-grid-item]") || isCellBox(from))) {
      return;
    }
    var row = rowItems(from.closest("tr"));
    var at = row.indexOf(from);
    var next = null;
    if (evt.key === "ArrowRight") {
      next = row[at + 1];
    } else if (evt.key === "ArrowLeft") {
      next = row[at - 1];
    } else if (evt.key === "ArrowDown") {
      next = vertical(grid, from, 1);
    } else if (evt.key === "ArrowUp") {
      next = vertical(grid, from, -1);
    } else if (evt.key === "Home") {
      next = evt.ctrlKey ? items(grid)[0] : row[0];
    } else if (evt.key === "End") {
      var list = evt.ctrlKey ? items(grid) : row;
      next = list[list.length - 1];
    } else {
      return;
    }
    evt.preventDefault();
    if (next) {
      next.focus();
    }
  });

  document.addEventListener("focusin", function (evt) {
    var elt = evt.target;
    var grid = elt.closest && elt.closest("[data-grid]");
    if (grid && (elt.matches("[data-grid-item]") || isCellBox(elt))) {
      current = elt.id;
      items(grid).forEach(function (item) { item.tabIndex = item === elt ? 0 : -1; });
    }
  });

  document.addEventListener("DOMContentLoaded", setUpGrid);
})();
