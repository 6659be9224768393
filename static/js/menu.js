// The main menu is a <details>: folded behind "메뉴" on a phone, open on a
// wider screen (CSS shows its content there even when closed). This keeps the
// open state true on a wide screen, for browsers without ::details-content,
// and folds it again when the window narrows. Without scripts it still works.
(function () {
  "use strict";
  var menu = document.querySelector("details.site-menu");
  if (!menu || !window.matchMedia) return;
  var wide = window.matchMedia("(min-width: 600px)");
  function follow() { menu.open = wide.matches; }
  follow();
  if (wide.addEventListener) wide.addEventListener("change", follow);
})();
