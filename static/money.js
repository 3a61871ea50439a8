// Amounts in the browser's locale: <data class="money" value data-currency data-places>.
(function () {
  function format(root) {
    (root || document).querySelectorAll("data.money").forEach(function (el) {
      var places = parseInt(el.dataset.places || "2", 10);
      try {
        el.textContent = new Intl.NumberFormat(navigator.language || "en", {
          style: "currency", currency: el.dataset.currency, minimumFractionDigits: places, maximumFractionDigits: places,
        }).format(parseFloat(el.value));
      } catch (e) { /* an unknown currency keeps the server's text */ }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { format(document); });
  document.addEventListener("htmx:afterSwap", function (event) { format(event.target); });
  window.batonFormatMoney = format;
})();
