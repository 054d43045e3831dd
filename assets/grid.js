/* Drag and drop on the widget grid, in edit mode only: the grip in a widget's head moves it, its
 * bottom-right corner resizes it. Positions snap to the 12 columns and the row height; an outline
 * shows where it lands; the drop goes to the server (the "edit-drop" store), which checks the
 * user's role, saves and draws the grid again. The toolbar's buttons are the keyboard way. */
(function () {
  "use strict";

  var COLUMNS = 12;
  var MAX_HEIGHT = 20;
  var drag = null;

  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  function metrics(grid) {
    // the size of one column and one row, with the gaps between them, as the browser laid out
    var style = getComputedStyle(grid);
    var tracks = style.gridTemplateColumns.split(" ").filter(Boolean).length;
    var colGap = parseFloat(style.columnGap) || 0;
    var rowGap = parseFloat(style.rowGap) || 0;
    var inner = grid.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    var col = (inner - colGap * (COLUMNS - 1)) / COLUMNS;
    return {
      ok: tracks === COLUMNS,
      stepX: col + colGap,
      stepY: (parseFloat(style.gridAutoRows) || 70) + rowGap,
    };
  }

  function layoutOf(card) {
    return {
      x: +card.dataset.x, y: +card.dataset.y, w: +card.dataset.w, h: +card.dataset.h,
    };
  }

  function place(el, lay) {
    el.style.gridColumn = (lay.x + 1) + " / span " + lay.w;
    el.style.gridRow = (lay.y + 1) + " / span " + lay.h;
  }

  function target(event) {
    // where the pointer has taken the widget, snapped to whole cells and kept on the grid
    var cols = Math.round((event.clientX - drag.startX) / drag.m.stepX);
    var rows = Math.round((event.clientY - drag.startY) / drag.m.stepY);
    var s = drag.start;
    if (drag.mode === "move") {
      return { x: clamp(s.x + cols, 0, COLUMNS - s.w), y: Math.max(0, s.y + rows), w: s.w, h: s.h };
    }
    return {
      x: s.x, y: s.y, w: clamp(s.w + cols, 1, COLUMNS - s.x), h: clamp(s.h + rows, 1, MAX_HEIGHT),
    };
  }

  function onDown(event) {
    var handle = event.target.closest && event.target.closest(".drag-handle, .resize-handle");
    if (!handle || event.button !== 0) { return; }
    var grid = handle.closest(".grid");
    var card = handle.closest(".widget");
    if (!grid || !card || !grid.classList.contains("editing")) { return; }
    var m = metrics(grid);
    if (!m.ok) { return; }  // the one-column phone layout has no grid to drop on
    event.preventDefault();
    var outline = document.createElement("div");
    outline.className = "grid-placeholder";
    outline.setAttribute("aria-hidden", "true");
    grid.appendChild(outline);
    drag = {
      mode: handle.classList.contains("resize-handle") ? "resize" : "move",
      card: card, grid: grid, outline: outline, m: m,
      startX: event.clientX, startY: event.clientY, start: layoutOf(card),
    };
    drag.now = drag.start;
    place(outline, drag.start);
    card.classList.add("dragging");
  }

  function onMove(event) {
    if (!drag) { return; }
    event.preventDefault();
    drag.now = target(event);
    place(drag.outline, drag.now);
    // the card follows the pointer; the outline shows the cell it snaps to
    drag.card.style.transform = drag.mode === "move"
      ? "translate(" + (event.clientX - drag.startX) + "px," + (event.clientY - drag.startY) + "px)"
      : "";
  }

  function onUp(event) {
    if (!drag) { return; }
    if (event.type === "pointercancel") { drag.now = drag.start; }
    var d = drag;
    drag = null;
    d.outline.remove();
    d.card.classList.remove("dragging");
    d.card.style.transform = "";
    var s = d.start, n = d.now;
    if (n.x === s.x && n.y === s.y && n.w === s.w && n.h === s.h) { return; }
    place(d.card, n);  // at once; the server's redraw confirms it
    var id = d.card.querySelector("[data-widget]").dataset.widget;
    window.dash_clientside.set_props("edit-drop", {
      data: { widget: id, x: n.x, y: n.y, w: n.w, h: n.h, at: Date.now() },
    });
  }

  document.addEventListener("pointerdown", onDown);
  document.addEventListener("pointermove", onMove);
  document.addEventListener("pointerup", onUp);
  document.addEventListener("pointercancel", onUp);
  window.dashGrid = { metrics: metrics };
})();
