/* Wan PWA: behaviour every page shares. Loaded as a file: the Content-Security-Policy allows no
   inline script. Everything here is an enhancement; the pages work without it. */
(function () {
  "use strict";

  const TOAST_SECONDS = 6;

  // Toasts: server messages arrive in #toasts (full pages and HTMX out-of-band swaps alike).
  function dismiss(toast) {
    if (!toast || toast.dataset.leaving) return;
    toast.dataset.leaving = "1";
    toast.classList.add("toast-leaving");
    window.setTimeout(() => toast.remove(), 220);
  }

  function arm(toast) {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "1";
    if (!("sticky" in toast.dataset)) {
      window.setTimeout(() => dismiss(toast), TOAST_SECONDS * 1000);
    }
  }

  function armAll() {
    document.querySelectorAll("#toasts [data-toast]").forEach(arm);
  }

  /** A toast made here, for what only the browser knows (network errors, copied links). */
  function toast(level, text, action) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast toast-" + level;
    item.setAttribute("role", level === "error" ? "alert" : "status");
    item.dataset.toast = "";
    if (action || level === "error") item.dataset.sticky = "";
    const message = document.createElement("p");
    message.textContent = text;
    item.appendChild(message);
    if (action) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "toast-action";
      button.textContent = action.label;
      button.addEventListener("click", () => { dismiss(item); action.run(); });
      item.appendChild(button);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close ghost icon-button";
    close.dataset.toastClose = "";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    item.appendChild(close);
    box.appendChild(item);
    arm(item);
  }

  document.addEventListener("DOMContentLoaded", () => {
    armAll();
    const box = document.getElementById("toasts");
    if (box) new MutationObserver(armAll).observe(box, { childList: true });
    initSelection();
  });

  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-toast-close]");
    if (close) dismiss(close.closest("[data-toast]"));

    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const field = document.querySelector(copy.dataset.copy);
      if (field && navigator.clipboard) {
        navigator.clipboard.writeText(field.value).then(
          () => toast("success", "Link copied."),
          () => { field.select(); toast("info", "Press Ctrl+C (or \u2318C) to copy the selected link."); }
        );
      } else if (field) {
        field.select();
      }
    }
  });

  // Confirmation for plain forms (HTMX forms use hx-confirm): on the form or the clicked button.
  document.addEventListener("submit", (event) => {
    const message = (event.submitter && event.submitter.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // HTMX: failed requests get a toast; a failed form submission offers Retry.
  function failed(event, text) {
    const element = event.detail.elt;
    if (element && element.tagName === "FORM") {
      toast("error", text, { label: "Retry", run: () => element.requestSubmit() });
    } else if (!element || !element.matches("[hx-trigger*='every']")) {
      toast("error", text);
    }
  }
  document.addEventListener("htmx:sendError", (event) => {
    failed(event, navigator.onLine === false ? "You are offline; nothing was sent." : "The server could not be reached.");
  });
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    failed(event, status === 403 ? "Your session expired: reload the page and try again." : "Something went wrong (" + status + "). Nothing was changed.");
  });

  // History: select all, and bulk buttons only when something is selected.
  function initSelection() {
    const all = document.querySelector("[data-select-all]");
    if (!all) return;
    const update = () => {
      const boxes = Array.from(document.querySelectorAll("[data-select]"));
      const chosen = boxes.filter((box) => box.checked).length;
      all.checked = boxes.length > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
      document.querySelectorAll("[data-bulk]").forEach((button) => { button.disabled = chosen === 0; });
      const count = document.querySelector("[data-selected-count]");
      if (count) count.textContent = chosen ? chosen + " selected" : "";
    };
    all.addEventListener("change", () => {
      document.querySelectorAll("[data-select]").forEach((box) => { box.checked = all.checked; });
      update();
    });
    document.addEventListener("change", (event) => { if (event.target.matches("[data-select]")) update(); });
    document.addEventListener("htmx:afterSettle", update);
    update();
  }

  // The home page's gallery: a clip plays, muted, while it is on screen, and is fetched only
  // then (preload="none"); not for people who ask for less motion (they have the controls).
  const still = window.matchMedia("(prefers-reduced-motion: reduce)");
  if ("IntersectionObserver" in window) {
    const watcher = new IntersectionObserver((entries) => {
      entries.forEach((entry) => {
        if (entry.isIntersecting && !still.matches) entry.target.play().catch(() => {});
        else if (!entry.isIntersecting) entry.target.pause();
      });
    }, { threshold: 0.6 });
    document.addEventListener("DOMContentLoaded", () => {
      document.querySelectorAll("video[data-autoplay]").forEach((video) => watcher.observe(video));
    });
  }

  // "Install app": only where the browser offers installing (it fires beforeinstallprompt), and
  // gone once the app is installed or the offer was answered.
  let installPrompt = null;
  function installButtons() {
    return document.querySelectorAll("[data-install]");
  }
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault(); // our button instead of the browser's own bar
    installPrompt = event;
    installButtons().forEach((button) => { button.hidden = false; });
  });
  window.addEventListener("appinstalled", () => {
    installPrompt = null;
    installButtons().forEach((button) => { button.hidden = true; });
  });
  document.addEventListener("click", (event) => {
    if (!installPrompt || !event.target.closest("[data-install]")) return;
    const offer = installPrompt;
    installPrompt = null; // a prompt can be shown once
    installButtons().forEach((button) => { button.hidden = true; });
    offer.prompt();
  });

  // The service worker: the app shell offline, and what makes the app installable.
  if ("serviceWorker" in navigator && document.body && document.body.dataset.serviceWorker) {
    window.addEventListener("load", () => {
      navigator.serviceWorker.register(document.body.dataset.serviceWorker, { scope: "/" }).catch(() => {});
    });
  }
})();
