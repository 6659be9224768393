// "주소 복사" buttons: copies the value of the input named by data-copy.
// Without scripts the buttons stay hidden and the read-only input, which
// selects its whole text on focus here, is there to copy by hand.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status"));
    if (!input) return;
    button.hidden = false;
    input.addEventListener("focus", function () { input.select(); });
    button.addEventListener("click", function () {
      function done(ok) {
        if (status) status.textContent = ok ? button.getAttribute("data-done") : button.getAttribute("data-failed");
      }
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () {
          done(document.execCommand && document.execCommand("copy"));
        });
      } else {
        done(document.execCommand && document.execCommand("copy"));
      }
    });
  });
})();
