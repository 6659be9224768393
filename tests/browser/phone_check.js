// The checks of test_phone_every_page.py, run in the page: returns a list of
// problems (strings), each naming the element.
(() => {
  const vw = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };
  const visible = (el) => el.checkVisibility({ checkVisibilityCSS: true, checkOpacity: true });
  // Inside a box that scrolls or clips on purpose (a table's .table-scroll,
  // the tab row, a visually hidden heading row).
  const contained = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX !== "visible" || s.clipPath !== "none") return true;
    }
    return false;
  };
  const page = document.documentElement.scrollWidth;
  if (page > window.innerWidth) problems.push(`the page is ${page} px wide`);
  const spilling = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg") && el.tagName.toLowerCase() !== "svg") continue;
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || r.right <= 0) continue;  // off screen on purpose: the skip link
    if (contained(el)) continue;
    if (r.right > vw + 0.5 || r.left < -0.5) {
      problems.push(`${name(el)} reaches ${Math.round(r.left)}..${Math.round(r.right)} px`);
    }
    const s = getComputedStyle(el);
    // A field scrolls its own text; an over-long value is not an overflow.
    const field = ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
    if (!field && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 &&
        !["auto", "scroll"].includes(s.overflowX)) {
      spilling.push(el);
    }
  }
  // Name the innermost box whose content is wider than the box.
  for (const el of spilling) {
    if (!spilling.some((other) => other !== el && el.contains(other))) {
      problems.push(`${name(el)}: content ${el.scrollWidth} px wide in a ${el.clientWidth} px box`);
    }
  }
  // Targets a finger can reach: visible, and not under something else (the
  // open menu covers the page below it).
  const reachable = (el) => {
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (y < 0 || y > window.innerHeight || x < 0 || x > vw) return true;  // off this screenful
    const top = document.elementFromPoint(x, y);
    return !top || el.contains(top) || top.contains(el) || (el.labels && [...el.labels].some((l) => l.contains(top)));
  };
  const targets = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]"
  )].filter((el) => visible(el) && reachable(el));
  const boxes = targets.map((el) => el.getBoundingClientRect());
  const small = (r) => r.width < 23.5 || r.height < 23.5;
  const inSentence = (el) => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith("inline")) block = block.parentElement;
    return block && block.innerText.trim().length > el.innerText.trim().length + 1;
  };
  targets.forEach((el, i) => {
    const r = boxes[i];
    if (!small(r) || inSentence(el)) return;
    const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
    const clear = boxes.every((o, j) => {
      if (j === i || o.width === 0) return true;
      const dx = Math.max(o.left - cx, 0, cx - o.right), dy = Math.max(o.top - cy, 0, cy - o.bottom);
      if (Math.hypot(dx, dy) < 12) return false;
      return !small(o) || Math.hypot(o.left + o.width / 2 - cx, o.top + o.height / 2 - cy) >= 24;
    });
    if (!clear) problems.push(`${name(el)} is a ${Math.round(r.width)}x${Math.round(r.height)} px tap target`);
  });
  return problems;
})();
