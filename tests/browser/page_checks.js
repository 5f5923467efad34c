// Injected by test_every_page.py before any of a page's own code runs.
(() => {
  "use strict";

  const describe = (el) =>
    el.tagName.toLowerCase() +
    (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\s+/).join(".")
      : "");

  // Layout shifts not caused by input, added up, with the elements that moved.
  const shift = { total: 0, moved: [] };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.hadRecentInput) continue;
      shift.total += entry.value;
      for (const source of entry.sources || []) {
        if (source.node && source.node.nodeType === 1) shift.moved.push(describe(source.node));
      }
    }
  }).observe({ type: "layout-shift", buffered: true });

  // Inside a box that scrolls sideways on purpose, content is reachable.
  const inScroller = (el) => {
    const root = document.documentElement;
    for (let up = el.parentElement; up && up !== document.body && up !== root; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow === "auto" || overflow === "scroll") return true;
    }
    return false;
  };

  // What sticks out sideways or is cut off at a side: the outermost element only.
  function sideways() {
    const root = document.documentElement;
    const width = root.clientWidth;
    const problems = [];
    if (root.scrollWidth > width + 1) {
      problems.push(`the page is ${root.scrollWidth}px wide in a ${width}px window`);
    }
    const reported = new Set();
    const inReported = (el) => {
      for (let up = el.parentElement; up; up = up.parentElement) if (reported.has(up)) return true;
      return false;
    };
    for (const el of document.body.querySelectorAll("*")) {
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none") continue;
      const box = el.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) continue; // visually hidden, for screen readers
      if (inScroller(el) || inReported(el)) continue;
      const text = (el.innerText || "").trim().slice(0, 40);
      if (box.right > width + 1 || box.left < -1) {
        reported.add(el);
        const span = `${Math.round(box.left)}..${Math.round(box.right)}px`;
        problems.push(`${describe(el)} ("${text}") spans ${span} of ${width}px`);
        continue;
      }
      const clips = ["hidden", "clip"].includes(style.overflowX) || style.textOverflow === "ellipsis";
      // Text hidden on purpose by indenting it away (Django's admin does so on icon buttons).
      const indented = parseFloat(style.textIndent) < -100;
      if (clips && text && !indented && el.scrollWidth > el.clientWidth + 1) {
        reported.add(el);
        const lost = el.scrollWidth - el.clientWidth;
        problems.push(`${describe(el)} ("${text}") cuts off ${lost}px of its content`);
      }
    }
    return problems.slice(0, 8);
  }

  window.__pageChecks = { shift, sideways };
})();
