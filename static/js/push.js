/* Settings > Notifications: turns Web Push on or off for this device. A click asks for the
   permission (browsers require a user gesture), subscribes through the service worker with the
   server's VAPID key and records the subscription on the server. */
(function () {
  "use strict";

  const box = document.querySelector("[data-push]");
  if (!box) return;
  const status = box.querySelector("[data-push-status]");
  const devices = box.querySelector("[data-push-devices]");
  const on = box.querySelector("[data-push-subscribe]");
  const off = box.querySelector("[data-push-unsubscribe]");
  const key = box.dataset.vapidKey;
  const SUBSCRIBE_TIMEOUT_MS = 20000;
  if (!key) return;
  if (!("serviceWorker" in navigator && "PushManager" in window && "Notification" in window)) {
    status.textContent = "This browser cannot receive notifications.";
    return;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  // The VAPID public key, base64url as the server gives it, as the bytes subscribe() takes.
  function keyBytes(base64url) {
    const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.message || "the server answered " + response.status);
    devices.textContent = answer.devices;
  }

  // A browser whose push service cannot be reached may never settle subscribe().
  function withTimeout(promise) {
    return Promise.race([
      promise,
      new Promise((resolve, reject) => window.setTimeout(
        () => reject(new Error("the browser's push service did not answer")), SUBSCRIBE_TIMEOUT_MS)),
    ]);
  }

  async function current() {
    const registration = await navigator.serviceWorker.ready;
    return registration.pushManager.getSubscription();
  }

  async function show() {
    const subscription = await current();
    on.hidden = Boolean(subscription);
    off.hidden = !subscription;
    status.textContent = subscription
      ? "This device gets notifications."
      : Notification.permission === "denied"
        ? "Notifications are blocked for this site in the browser's settings."
        : "This device does not get notifications.";
  }

  on.addEventListener("click", async () => {
    on.disabled = true;
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        status.textContent = "Notifications were not allowed.";
        return;
      }
      status.textContent = "Turning notifications on…";
      const registration = await navigator.serviceWorker.ready;
      const subscription = await withTimeout(registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(key),
      }));
      await post(box.dataset.subscribeUrl, subscription.toJSON());
      await show();
    } catch (error) {
      status.textContent = "Could not turn notifications on: " + error.message;
    } finally {
      on.disabled = false;
    }
  });

  off.addEventListener("click", async () => {
    off.disabled = true;
    try {
      const subscription = await current();
      if (subscription) {
        await post(box.dataset.unsubscribeUrl, { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
      await show();
    } catch (error) {
      status.textContent = "Could not turn notifications off: " + error.message;
    } finally {
      off.disabled = false;
    }
  });

  show().catch(() => {
    status.textContent = "This browser cannot receive notifications here.";
  });
})();
