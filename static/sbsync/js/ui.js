// Every page of the staff UI: failed htmx requests are reported in the error area (never swapped
// into the page), a session that expired during a change offers to log in and retry, filter forms keep
// the table's sort, and tables that scroll sideways say so.
(function () {
  "use strict";

  var failed = null; // the element whose request failed, so Retry can send it again

  function errorArea() {
    return document.querySelector("[data-error-area]");
  }

  function clearErrors() {
    var area = errorArea();
    if (area) {
      area.replaceChildren();
    }
    failed = null;
  }

  function paragraph(text) {
    var p = document.createElement("p");
    p.className = "message message-error";
    p.textContent = text;
    return p;
  }

  function retryButton() {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small";
    button.textContent = "Retry";
    button.dataset.retry = "";
    return button;
  }

  // The server's own words when it answered a short plain text (a 400 of ours), else a general sentence.
  function reason(xhr) {
    var type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    var text = xhr && typeof xhr.responseText === "string" ? xhr.responseText.trim() : "";
    if (type.indexOf("text/plain") === 0 && text && text.length < 300) {
      return text;
    }
    return "the server answered with error " + xhr.status + (xhr.statusText ? " (" + xhr.statusText + ")" : "") + ".";
  }

  function report(evt) {
    var elt = evt.detail.elt;
    var xhr = evt.detail.xhr;
    var area = errorArea();
    if (!area) {
      return;
    }
    var isWrite = (evt.detail.requestConfig && evt.detail.requestConfig.verb !== "get");
    var p;
    area.replaceChildren();
    if (evt.type === "htmx:sendError" || !xhr || xhr.status === 0) {
      p = paragraph((isWrite ? "Not saved: " : "Not updated: ") + "the server could not be reached. Check the connection and retry.");
    } else if (xhr.status === 401) {
      p = paragraph("Your session has expired, so the change was not saved. ");
      var login = document.createElement("a");
      login.href = document.body.dataset.loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search);
      login.target = "_blank";
      login.rel = "noopener";
      login.textContent = "Log in again (new tab)";
      p.appendChild(login);
      p.appendChild(document.createTextNode(", then retry. "));
    } else {
      p = paragraph((isWrite ? "Not saved: " : "Not updated: ") + reason(xhr) + " ");
    }
    if (elt && elt.isConnected && isWrite) {
      failed = elt;
      p.appendChild(retryButton());
    }
    area.appendChild(p);
  }

  function retry() {
    var elt = failed;
    clearErrors();
    if (!elt || !elt.isConnected) {
      return;
    }
    if (elt.matches("input[type=checkbox]")) {
      elt.checked = !elt.checked; // it was put back when the save failed
      htmx.trigger(elt, "change");
    } else if (elt.matches("form")) {
      htmx.trigger(elt, "submit");
    } else {
      elt.click();
    }
  }

  // A filter form keeps the sort chosen in the table (its links change the URL, not the form).
  function keepSort(evt) {
    var form = evt.detail.elt;
    if (!form.matches || !form.matches("form[data-keep-sort]")) {
      return;
    }
    var sort = new URLSearchParams(location.search).get("sort");
    if (sort) {
      evt.detail.parameters.sort = sort;
    } else {
      delete evt.detail.parameters.sort;
    }
  }

  // A table wider than its card scrolls inside it: say so, and let the keyboard scroll it.
  function markScrollers(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-scroller], .table-container").forEach(function (box) {
      var wide = box.scrollWidth > box.clientWidth + 1;
      box.toggleAttribute("data-overflowing", wide);
      if (wide) {
        box.setAttribute("tabindex", "0");
      } else {
        box.removeAttribute("tabindex");
      }
      var hint = box.previousElementSibling;
      if (hint && hint.matches("[data-scroll-hint]")) {
        hint.hidden = !wide;
      }
    });
  }

  document.addEventListener("htmx:responseError", report);
  document.addEventListener("htmx:sendError", report);
  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (evt.detail.requestConfig && evt.detail.requestConfig.verb !== "get") {
      clearErrors();
    }
  });
  document.addEventListener("htmx:configRequest", keepSort);
  document.addEventListener("click", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-retry]")) {
      retry();
    }
  });
  document.addEventListener("DOMContentLoaded", function () { markScrollers(document); });
  document.addEventListener("htmx:afterSettle", function () { markScrollers(document); });
  window.addEventListener("resize", function () { markScrollers(document); });
})();
