// The market-day sheet's 인쇄 button (templates/booths/sheet.html): shown
// only when this script runs, since without it the button could do nothing;
// Ctrl+P, which the page also mentions, works either way.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
