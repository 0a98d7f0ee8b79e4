// dialback's pages: clocks that tick in the browser, small dialogs, and the settings page's
// live hints. Everything else is htmx. No network access of its own.
(function () {
  "use strict";
  var skew = 0; // server clock minus browser clock, in seconds

  function fmt(total) {
    total = Math.max(0, Math.round(total));
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    var now = Date.now() / 1000 + skew;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = fmt(now - parseFloat(el.dataset.since));
    });
    document.querySelectorAll("[data-until]").forEach(function (el) {
      var left = parseFloat(el.dataset.until) - now;
      el.textContent = fmt(left) + (left > 0 ? "" : " (missed)");
      el.classList.toggle("urgent", left < 10);
    });
  }

  function localToIso(value) {
    return value ? new Date(value).toISOString() : value;
  }

  function isoLocal(date) {
    var d = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 16);
  }

  function revealFlows(root) {
    root.querySelectorAll("select[data-reveals]").forEach(function (select) {
      var box = document.querySelector('[data-flow-for="' + select.name + '"]');
      if (box) box.hidden = select.value !== "TransferToFlow";
    });
  }

  function explainPacing() {
    var input = document.querySelector("[data-pacing-input]");
    var panel = document.querySelector(".pacing-panel");
    if (!input || !panel) return;
    var value = parseFloat(input.value);
    var agents = parseInt(panel.dataset.onQueue, 10) || 0;
    var chosen = null;
    panel.querySelectorAll("tr[data-modifier]").forEach(function (row) {
      var hit = parseFloat(row.dataset.modifier) === Math.floor(value);
      row.classList.toggle("current", hit);
      if (hit) { row.setAttribute("aria-current", "true"); chosen = row; } else { row.removeAttribute("aria-current"); }
    });
    var out = panel.querySelector("[data-pacing-explain]");
    if (!out) return;
    if (!chosen || !(value >= 1 && value <= 10)) {
      out.textContent = "Choose a pacing modifier from 1 to 10.";
      return;
    }
    var multiplier = parseFloat(chosen.dataset.multiplier) + (value - Math.floor(value)) * 0.1;
    var minimum = parseInt(chosen.dataset.minimum, 10);
    var cap = multiplier * agents;
    var who = agents + " agent" + (agents === 1 ? "" : "s") + " on queue now";
    var text;
    if (agents === 0) {
      text = who + ": nothing is dialed until an agent is on queue.";
    } else if (cap >= 1) {
      text = who + ": up to " + cap.toFixed(1) + " callbacks dialed at once (" + multiplier.toFixed(2) +
        " × " + agents + "); at least " + Math.floor(cap) + " guaranteed at each evaluation (" +
        minimum + " agents needed for one).";
    } else {
      text = who + ": fewer than the " + minimum + " agents needed for a guaranteed dispatch, so a callback is dialed with probability " +
        Math.round(cap * 100) + "% at each evaluation.";
    }
    out.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var server = parseFloat(document.body.dataset.serverTime || "0");
    if (server) skew = server - Date.now() / 1000;
    tick();
    setInterval(tick, 1000);
    revealFlows(document);
    explainPacing();
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-reveals]")) revealFlows(document);
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-pacing-input]")) explainPacing();
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-reschedule]");
    if (opener) {
      var dialog = document.getElementById("reschedule-dialog");
      dialog.querySelector('[name="conversationId"]').value = opener.dataset.reschedule;
      dialog.querySelector("[data-reschedule-who]").textContent = opener.dataset.who || "";
      var when = dialog.querySelector('[name="callbackScheduledTime"]');
      when.value = isoLocal(new Date(Date.now() + 30 * 60000)); // Genesys' default: now + 30 min
      dialog.showModal();
      when.focus();
      return;
    }
    var cancel = event.target.closest && event.target.closest("[data-dialog-cancel]");
    if (cancel) cancel.closest("dialog").close();
  });

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details.reschedule") || !details.open) return;
    var when = details.querySelector('input[type="datetime-local"]');
    if (when && !when.value) when.value = isoLocal(new Date(Date.now() + 30 * 60000));
    if (when && when.dataset.window) {
      when.max = isoLocal(new Date(Date.now() + parseFloat(when.dataset.window) * 1000));
    }
  }, true);

  document.addEventListener("htmx:configRequest", function (event) {
    var params = event.detail.parameters;
    var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    var input = form ? form.querySelector('input[type="datetime-local"][name="callbackScheduledTime"]') : null;
    if (input && input.value) {
      var iso = localToIso(input.value);
      if (params instanceof FormData) params.set("callbackScheduledTime", iso);
      else params.callbackScheduledTime = iso;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("form[data-close-dialog]") : null;
    if (form && event.detail.successful) form.closest("dialog").close();
    var flash = document.getElementById("flash");
    if (flash) {
      clearTimeout(flash._timer);
      flash._timer = setTimeout(function () { flash.innerHTML = ""; }, 8000);
    }
  });

  document.addEventListener("htmx:sseOpen", function () { document.body.classList.remove("offline"); });
  document.addEventListener("htmx:sseError", function () { document.body.classList.add("offline"); });
  document.addEventListener("htmx:sseMessage", tick);
  document.addEventListener("htmx:afterSettle", tick);
  // The dashboard's list of queues changed: load the page again for the new places.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "reload-signal") location.reload();
  });
})();
