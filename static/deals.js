// The deal board: drag a card to another stage, or focus it and press Left / Right; the stage
// select + Move button and the "Close won or lost…" link work without this file too. A move
// posts to the card's move URL (asking for JSON), then the board is re-fetched from the server
// (?fragment=board) so every total is the server's. Closing opens a <dialog> with the server's
// close form; a refused close comes back as that form with its field errors.
(function () {
  var STAGES = ["qualification", "discovery", "proposal", "negotiation"];
  var dragged = null;

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(text) {
    var status = document.getElementById("board-status");
    if (status) { status.textContent = ""; setTimeout(function () { status.textContent = text; }, 30); }
  }

  function board() { return document.getElementById("deal-board"); }

  function refresh(focusDealId) {
    var el = board();
    var url = el.dataset.url || window.location.pathname + window.location.search;
    url += (url.indexOf("?") === -1 ? "?" : "&") + "fragment=board";
    return fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#deal-board");
        if (!fresh) { return; }
        el.replaceWith(fresh);
        if (window.batonFormatMoney) { window.batonFormatMoney(fresh); }
        if (focusDealId) {
          var card = document.getElementById("deal-" + focusDealId);
          if (card) { card.focus(); }
        }
      });
  }

  function move(card, stage) {
    if (!stage || stage === card.dataset.stage) { return Promise.resolve(); }
    var body = new FormData();
    body.append("stage", stage);
    body.append("csrfmiddlewaretoken", csrf());
    card.setAttribute("aria-busy", "true");
    return fetch(card.dataset.moveUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf() },
    })
      .then(function (r) { return r.json().catch(function () { return { message: "The move failed (" + r.status + ")." }; }); })
      .then(function (data) {
        announce(data.message || "");
        return refresh(card.dataset.deal);
      })
      .catch(function () { announce("The move failed: no connection."); return refresh(card.dataset.deal); });
  }

  function cardOf(target) { return target && target.closest ? target.closest("article.deal") : null; }

  document.addEventListener("dragstart", function (event) {
    var card = cardOf(event.target);
    if (!card) { return; }
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    document.querySelectorAll(".column.drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest("#deal-board .column");
    if (!dragged || !column) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".column.drop-target").forEach(function (c) { if (c !== column) { c.classList.remove("drop-target"); } });
    column.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest("#deal-board .column");
    if (!dragged || !column) { return; }
    event.preventDefault();
    var card = dragged;
    column.classList.remove("drop-target");
    if (column.dataset.stage !== card.dataset.stage) {
      column.querySelector(".cards").prepend(card);  // at once; the refresh puts it in order
      move(card, column.dataset.stage);
    }
  });

  document.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card.matches || !card.matches("#deal-board article.deal")) { return; }
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") { return; }
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var index = STAGES.indexOf(card.dataset.stage) + (event.key === "ArrowRight" ? 1 : -1);
    if (index < 0 || index >= STAGES.length) { return; }
    event.preventDefault();
    move(card, STAGES[index]);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("#deal-board form.move-form")) {
      event.preventDefault();
      move(cardOf(form), form.querySelector("select[name=stage]").value);
    } else if (form.matches("#close-dialog form.close-form")) {
      event.preventDefault();
      submitClose(form);
    }
  });

  // --- Closing in a dialog ---------------------------------------------------------------------

  function dialog() { return document.getElementById("close-dialog"); }

  function showForm(html) {
    var body = document.getElementById("close-dialog-body");
    body.innerHTML = html;
    // The first field with an error, else the chosen result, else the first result.
    var first = body.querySelector("[aria-invalid=true]") || body.querySelector("input[name=result]:checked") ||
      body.querySelector("input[name=result]");
    if (first) { first.focus(); }
  }

  function submitClose(form) {
    var url = form.action + (form.action.indexOf("?") === -1 ? "?" : "&") + "fragment=form";
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "X-CSRFToken": csrf() } })
      .then(function (r) {
        var json = (r.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
        return (json ? r.json() : r.text()).then(function (data) { return { ok: r.ok, json: json, data: data }; });
      })
      .then(function (result) {
        if (result.ok && result.json) {
          dialog().close();
          announce(result.data.message || "");
          refresh();
        } else if (!result.json) {
          showForm(result.data);
        }
      })
      .catch(function () { announce("Closing failed: no connection."); });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#deal-board a.close-link");
    if (link && dialog() && dialog().showModal) {
      event.preventDefault();
      document.getElementById("close-dialog-title").textContent = "Close “" + link.dataset.dealName + "”";
      var url = link.href + (link.href.indexOf("?") === -1 ? "?" : "&") + "fragment=form";
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { dialog().showModal(); showForm(html); });
      return;
    }
    var cancel = event.target.closest && event.target.closest("#close-dialog a.cancel");
    if (cancel) { event.preventDefault(); dialog().close(); }
  });
})();
