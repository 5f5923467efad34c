{% load static %}{% autoescape off %}/* Wan PWA service worker: the app shell and static files from the cache, pages from the
   network, and the offline page when the network is gone. Version {{ version }}. */
const CACHE = "wan-pwa-{{ version }}";
const OFFLINE_URL = "{{ offline_url|escapejs }}";
const ICON_URL = "{% static 'icons/icon-192.png' %}";
const SHELL = [OFFLINE_URL{% for url in shell %}, "{{ url|escapejs }}"{% endfor %}];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { credentials: "omit" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

function isStatic(url) {
  return url.origin === self.location.origin && url.pathname.startsWith("/static/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (request.mode === "navigate") {
    // Pages hold private, changing data: always from the network, never cached.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  if (isStatic(url)) {
    // Static names are content-hashed, so a cached copy is never stale.
    event.respondWith(
      caches.match(request).then((cached) => cached || fetch(request).then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      }))
    );
  }
});

// Web Push (generations/notifications/push.py): a generation has ended. The payload is JSON:
// title, body, the URL to open, and a tag so a newer message replaces an older one.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { body: event.data.text() };
  }
  event.waitUntil(
    self.registration.showNotification(message.title || "Wan PWA", {
      body: message.body || "",
      tag: message.tag || "generations",
      icon: ICON_URL,
      badge: ICON_URL,
      data: { url: message.url || "/" },
    })
  );
});

// A click opens the video: an open tab on that page is focused, else a new window opened.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => client.url === target);
      return open ? open.focus() : self.clients.openWindow(target);
    })
  );
});
{% endautoescape %}
