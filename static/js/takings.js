// Progressive help on the takings form: shows the typed amount as ₩1,234,000
// (a zero too many is easy to miss on a phone) and whether the payment split
// adds up. The form works the same without it; the server checks everything.
(function () {
  "use strict";
  function won(text) {
    var match = /^\s*[₩￦]?\s*(\d{1,3}(,\d{3})+|\d+)\s*(원)?\s*$/.exec(text || "");
    return match ? parseInt(match[1].replace(/,/g, ""), 10) : null;
  }
  function format(amount) {
    return "₩" + amount.toLocaleString("ko-KR");
  }
  var amount = document.getElementById("amount");
  var preview = document.getElementById("amount-preview");
  var sum = document.getElementById("split-sum");
  if (!amount || !preview) return;
  var parts = ["cash", "card", "voucher"].map(function (id) { return document.getElementById(id); });

  function update() {
    var value = won(amount.value);
    preview.hidden = value === null;
    preview.textContent = value === null ? "" : "= " + format(value);
    if (!sum) return;
    var given = parts.filter(function (input) { return input && input.value.trim() !== ""; });
    if (!given.length) { sum.hidden = true; return; }
    var total = given.reduce(function (acc, input) { return acc + (won(input.value) || 0); }, 0);
    var same = value !== null && total === value;
    sum.hidden = false;
    sum.className = "split-sum " + (same ? "is-ok" : "is-off");
    sum.textContent = sum.dataset.label + ": " + format(total) + " — " +
      (same ? sum.dataset.match : sum.dataset.differ);
  }
  [amount].concat(parts).forEach(function (input) {
    if (input) input.addEventListener("input", update);
  });
  update();
})();
