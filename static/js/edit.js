/* The edit page: only the chosen model's controls, the live cost from the catalog's table
   (generations.edit_form.costs), and the region drawn on the source's first frame with a pointer,
   mirrored in the numeric fields the form submits (which work without this script). */
(function () {
  "use strict";

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  function refresh(form) {
    const models = readJson("edit-models");
    const costs = readJson("edit-costs");
    const key = form.querySelector("[name=model_key]").value;
    const model = models[key];
    if (!model) return;
    form.querySelectorAll("[data-control]").forEach(function (input) {
      const wrapper = input.closest(".field");
      if (wrapper) wrapper.hidden = !model.controls.includes(input.dataset.control);
    });
    const prompt = form.querySelector("[data-takes-prompt]");
    if (prompt) prompt.hidden = !model.prompt;
    const image = form.querySelector("[data-takes-image]");
    if (image) image.hidden = !model.image;
    const resolution = form.querySelector("[name=resolution]");
    Array.from(resolution.options).forEach(function (option) {
      option.disabled = !model.resolutions.includes(option.value);
    });
    if (!model.resolutions.includes(resolution.value)) resolution.value = model.resolutions[0];
    const duration = form.querySelector("[name=duration]");
    const length = duration && model.controls.includes("duration") ? duration.value : "";
    const byLength = (costs[key] || {})[resolution.value] || {};
    const cost = byLength[length];
    form.querySelector("[data-cost]").textContent =
      cost === null || cost === undefined ? "\u2013" : String(cost);
  }

  function setUpRegion(form) {
    const area = form.querySelector("[data-region]");
    if (!area) return;
    const box = area.querySelector("[data-region-box]");
    const fields = {};
    ["mask_x", "mask_y", "mask_width", "mask_height"].forEach(function (name) {
      fields[name] = form.querySelector("[name=" + name + "]");
    });
    const value = function (name) { return parseFloat(fields[name].value); };

    function show() {
      const x = value("mask_x"), y = value("mask_y");
      const w = value("mask_width"), h = value("mask_height");
      if ([x, y, w, h].some(isNaN) || w <= 0 || h <= 0) { box.hidden = true; return; }
      box.hidden = false;
      box.style.left = x * 100 + "%";
      box.style.top = y * 100 + "%";
      box.style.width = w * 100 + "%";
      box.style.height = h * 100 + "%";
    }

    function fraction(event) {
      const rect = area.getBoundingClientRect();
      const clamp = function (v) { return Math.min(Math.max(v, 0), 1); };
      return [clamp((event.clientX - rect.left) / rect.width),
              clamp((event.clientY - rect.top) / rect.height)];
    }

    let start = null;
    function draw(event) {
      const end = fraction(event);
      const round = function (v) { return String(Math.round(v * 1000) / 1000); };
      fields.mask_x.value = round(Math.min(start[0], end[0]));
      fields.mask_y.value = round(Math.min(start[1], end[1]));
      fields.mask_width.value = round(Math.abs(end[0] - start[0]));
      fields.mask_height.value = round(Math.abs(end[1] - start[1]));
      show();
    }
    area.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      area.setPointerCapture(event.pointerId);
      start = fraction(event);
    });
    area.addEventListener("pointermove", function (event) { if (start) draw(event); });
    area.addEventListener("pointerup", function (event) {
      if (!start) return;
      draw(event);
      start = null;
    });
    area.addEventListener("pointercancel", function () { start = null; });
    Object.values(fields).forEach(function (input) { input.addEventListener("input", show); });
    show();
  }

  function setUp() {
    const form = document.querySelector("[data-edit-form]");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    form.addEventListener("change", function () { refresh(form); });
    refresh(form);
    setUpRegion(form);
  }

  document.addEventListener("DOMContentLoaded", setUp);
  // The form comes back from the server (errors) as a fresh copy to set up.
  document.addEventListener("htmx:afterSettle", setUp);
})();
