// Plan Change Portal: progressive enhancement only; every page works without it.
(function () {
  "use strict";

  // A modal pane (role=dialog, aria-modal; the pane is a page of its own): focus starts inside it and stays
  // there (Tab and Shift+Tab go round), Escape closes it, and closing goes back to the page it was opened
  // from, to the control that opened it (the close link's #fragment, below). No inline handlers: the CSP.
  var modal = document.querySelector("[data-modal]");
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), " +
    "select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
  function focusables() {
    return Array.prototype.filter.call(modal.querySelectorAll(FOCUSABLE), function (el) {
      return el.getClientRects().length > 0;
    });
  }
  if (modal) {
    var closer = modal.querySelector("[data-close]");
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && closer) {
        e.preventDefault();
        window.location.href = closer.getAttribute("href");
        return;
      }
      if (e.key !== "Tab") return;
      var items = focusables();
      if (!items.length) return;
      var first = items[0], last = items[items.length - 1], at = document.activeElement;
      if (!modal.contains(at) || (e.shiftKey && at === first) || (!e.shiftKey && at === last)) {
        e.preventDefault();
        (e.shiftKey ? last : first).focus();
      }
    });
    document.addEventListener("focusin", function (e) {
      if (!modal.contains(e.target)) {
        var items = focusables();
        (items[0] || modal).focus();
      }
    });
    var start = modal.querySelector("form select, form input:not([type=hidden]), form button") || focusables()[0];
    if (start) start.focus();
  } else if (!document.querySelector("[autofocus]")) {
    // After a navigation, focus goes where the reader left off: the element the URL's fragment names (the
    // control that opened a pane just closed), else the page's heading.
    var named = location.hash.length > 1 ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    var heading = document.querySelector("main h1");
    if (named) {
      // A section (Add-ons after a removal) isn't focusable of itself: made so, as the heading is below.
      if (!named.matches("a[href], button, input, select, textarea, summary, [tabindex]")) named.setAttribute("tabindex", "-1");
      named.focus();
    } else if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  // Live progress: poll the fragment until it carries data-final.
  document.querySelectorAll("[data-poll]").forEach(function (box) {
    var url = box.getAttribute("data-poll");
    function tick() {
      if (box.querySelector("[data-final]")) return;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) box.innerHTML = html; })
        .finally(function () { if (!box.querySelector("[data-final]")) setTimeout(tick, 1000); });
    }
    setTimeout(tick, 1000);
  });

  // Support console: a move of the clock under way, followed until it is done (then the page shows what it did).
  document.querySelectorAll("[data-move-url]").forEach(function (box) {
    var bar = box.querySelector("progress");
    var said = box.querySelector("[data-move-status]");
    var text = box.getAttribute("data-move-text");
    var counted = new Intl.NumberFormat(document.documentElement.lang || undefined);  // "3,650", "3 650"
    function tick() {
      fetch(box.getAttribute("data-move-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (move) {
          if (move && (move.status === "done" || move.status === "failed")) {
            window.location.assign(box.getAttribute("data-move-done"));  // a GET: the page shows what it did
            return;
          }
          if (move) {
            bar.max = move.days_total; bar.value = move.days_done;
            said.textContent = text.replace("{done}", counted.format(move.days_done))
              .replace("{total}", counted.format(move.days_total)).replace("{happenings}", counted.format(move.happenings));
          }
          setTimeout(tick, 1000);
        }, function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, 1000);
  });

  // The Change plan pane: the quote follows the choices.
  var form = document.getElementById("change-plan-form");
  if (form) {
    var quoteBox = document.getElementById("pane-quote");
    var pending = null;
    var requote = function () {
      if (pending) clearTimeout(pending);
      pending = setTimeout(function () {
        var params = new URLSearchParams(new FormData(form));
        params.delete("csrfmiddlewaretoken");
        params.delete("quote_id");
        fetch(form.getAttribute("data-quote-url") + "&" + params.toString(), { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var holder = document.createElement("div");
            holder.innerHTML = html;
            var fresh = holder.querySelector("#pane-quote");
            if (fresh) quoteBox.replaceWith(fresh), quoteBox = fresh;
          });
      }, 250);
    };
    // A billing frequency the catalog doesn't sell for the chosen length is disabled, its reason shown.
    var frequency = form.querySelector("[data-sold-terms]");
    var term = form.querySelector("#term");
    if (frequency && term) {
      term.addEventListener("change", function () {
        Array.prototype.forEach.call(frequency.options, function (o) {
          o.disabled = (o.getAttribute("data-terms") || "").split(" ").indexOf(term.value) < 0;
        });
        if (frequency.selectedOptions[0] && frequency.selectedOptions[0].disabled) {
          var sold = Array.prototype.find.call(frequency.options, function (o) { return !o.disabled; });
          if (sold) frequency.value = sold.value;
        }
        form.querySelectorAll(".field-hint[data-term]").forEach(function (p) {
          p.hidden = p.getAttribute("data-term") !== term.value;
        });
      });
    }
    // Into a subscription the tenant has: its length and billing frequency, one license per user who moves.
    var target = form.querySelector("#target_sku");
    var intoNote = document.getElementById("into-note");
    if (target && term && frequency) {
      target.addEventListener("change", function () {
        var o = target.selectedOptions[0];
        var into = !!(o && o.hasAttribute("data-into-term"));
        if (into) {
          term.value = o.getAttribute("data-into-term");
          frequency.value = o.getAttribute("data-into-frequency");
        }
        [form.querySelector("#licenses"), term, frequency].forEach(function (el) { if (el) el.disabled = into; });
        if (intoNote) intoNote.hidden = !into;
      });
    }
    form.querySelectorAll("[data-requote]").forEach(function (el) {
      el.addEventListener("change", requote);
      el.addEventListener("input", requote);
    });
  }

  // Active users: "select all on this page" and how many are selected.
  var selectPage = document.querySelector("[data-select-page]");
  if (selectPage) {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-user]"));
    var counter = document.querySelector("[data-testid=selected-count]");
    var count = function () {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      selectPage.checked = n > 0 && n === boxes.length;
      selectPage.indeterminate = n > 0 && n < boxes.length;
      if (counter) counter.textContent = n ? n + " " + (counter.getAttribute("data-label") || "") : "";
    };
    selectPage.hidden = false;
    selectPage.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = selectPage.checked; });
      count();
    });
    boxes.forEach(function (b) { b.addEventListener("change", count); });
    count();
  }

  // Purchase services: the order's total follows the choices, and Buy buys what the total shows.
  var choice = document.getElementById("order-choice");
  var purchase = document.getElementById("purchase-form");
  if (choice && purchase) {
    var waiting = null;
    var retotal = function () {
      choice.querySelectorAll("[data-retotal]").forEach(function (el) {
        var copy = purchase.querySelector("[data-copy='" + el.name + "']");
        if (copy) copy.value = el.value;
      });
      if (waiting) clearTimeout(waiting);
      waiting = setTimeout(function () {
        var params = new URLSearchParams(new FormData(choice));
        fetch(choice.getAttribute("data-total-url") + "&" + params.toString(), { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var holder = document.createElement("div");
            holder.innerHTML = html;
            var fresh = holder.querySelector("#order-total");
            var box = document.getElementById("order-total");
            if (fresh && box) box.replaceWith(fresh);
          });
      }, 250);
    };
    choice.querySelectorAll("[data-retotal]").forEach(function (el) {
      el.addEventListener("change", retotal);
      el.addEventListener("input", retotal);
    });
  }

  // Checkout: the new card's fields only matter when "Add a card" is chosen.
  var newCard = document.getElementById("pm-new");
  if (newCard) {
    var box = document.querySelector(".new-card");
    var sync = function () { box.hidden = !newCard.checked; };
    document.querySelectorAll("input[name=payment_method]").forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }
  // Settings > API tokens: copy the new token (the button shows only where the clipboard works).
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = button.getAttribute("data-copied") || button.textContent;
      });
    });
  });
})();

// "Each user" (Checkout, the MCA pane, Replace): the filter hides the rows that don't match and narrows the
// CSV download to the same users. Delegated, so a pane drawn again keeps it.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-user-filter]")) return;
    var section = select.closest("[data-testid=user-changes]");
    if (!section) return;
    var only = select.value;
    section.querySelectorAll("tbody tr[data-upn]").forEach(function (row) {
      row.hidden = only !== "" && row.getAttribute("data-" + only) !== "1";
    });
    var link = section.querySelector("a[data-csv-link]");
    if (link) {
      var url = new URL(link.href, window.location.href);
      if (only) url.searchParams.set("only", only); else url.searchParams.delete("only");
      link.href = url.pathname + url.search;
    }
  });
})();
