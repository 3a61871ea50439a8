// Live pages: poll the server's change marker (crm/live.py explains why a poll). While nothing
// changes the answer is an empty 204; a hidden tab polls six times less often. On a change: the
// bell's unread count, a spoken and visible notice for a new notification, and the call list's
// rows re-fetched so a new lead appears at its place.
(function () {
  var root = document.getElementById("live");
  if (!root || !window.fetch) return;
  var url = root.dataset.url;
  var every = (parseInt(root.dataset.seconds, 10) || 5) * 1000;
  var badge = document.getElementById("bell-count");
  var bell = document.getElementById("bell");
  var region = document.getElementById("live-notice");
  var marker = "";
  var lastId = 0;
  var first = true;
  var timer = null;

  function schedule(ms) { clearTimeout(timer); timer = setTimeout(poll, ms); }
  function poll() {
    fetch(url + "&m=" + encodeURIComponent(marker) + "&after=" + lastId, { credentials: "omit", cache: "no-store" })
      .then(function (r) { if (r.status === 204) return null; if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { if (data) apply(data); })
      .catch(function () {})
      .then(function () { schedule(document.hidden ? every * 6 : every); });
  }
  function apply(data) {
    marker = data.marker;
    badge.textContent = data.unread;
    badge.hidden = !data.unread;
    bell.setAttribute("aria-label", "Notifications, " + data.unread + " unread");
    var fresh = data.notices.filter(function (n) { return n.id > lastId; });
    if (data.notices.length) lastId = Math.max(lastId, data.notices[0].id);
    if (!first && fresh.length) {
      announce(fresh[0]);
      refreshRows();
    }
    first = false;
  }
  function announce(notice) {
    region.textContent = notice.message;
    region.hidden = false;
    clearTimeout(region._hide);
    region._hide = setTimeout(function () { region.hidden = true; }, 15000);
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      try { new Notification("Baton", { body: notice.message }); } catch (e) { /* not allowed here */ }
    }
  }
  function refreshRows() {
    var body = document.querySelector("tbody[data-live-rows]");
    if (!body) return;
    var before = {};
    body.querySelectorAll("tr[data-lead-id]").forEach(function (tr) { before[tr.dataset.leadId] = true; });
    fetch(body.dataset.liveRows, { credentials: "same-origin", headers: { "X-Requested-With": "live" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        body.innerHTML = html;
        var rows = body.querySelectorAll("tr[data-lead-id]");
        rows.forEach(function (tr) { if (!before[tr.dataset.leadId]) tr.classList.add("live-new"); });
        var table = body.closest("table"), empty = document.getElementById("call-list-empty");
        if (rows.length && table) table.hidden = false;
        if (rows.length && empty) empty.hidden = true;
        if (window.batonFormatMoney) window.batonFormatMoney(body);
      });
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) schedule(0); });
  schedule(0);
})();
