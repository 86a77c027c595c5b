/* The kiosk's service worker, served as /kiosk/sw.js for the scope /kiosk/. It answers from
   the caches kiosk.js fills (one per screen and bundle version) when the network does not, so
   a screen plays on with the server stopped and starts again from them after a reboot. It
   stores nothing itself: kiosk.js puts a bundle in only once all of it came in well, so no
   error answer is ever kept. */
"use strict";

const NETWORK_WAIT = 4000; // ms a page or a bundle may take before the kept one is used
const BASE = new URL("..", self.location).pathname; // where the site starts: "/"
const KEPT_FILES = ["media/", "static/", "kiosk/qr/"].map((path) => BASE + path);

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" || url.pathname.endsWith("/bundle.json")) {
    event.respondWith(networkFirst(request));
  } else if (request.cache === "reload") {
    // kiosk.js downloading a new bundle: the server's answer, not a kept one.
  } else if (KEPT_FILES.some((prefix) => url.pathname.startsWith(prefix))) {
    event.respondWith(cacheFirst(request));
  }
});

function kept(request) {
  return caches.match(request, { ignoreVary: true });
}

async function networkFirst(request) {
  const network = fetch(request);
  const answer = await Promise.race([
    network.catch(() => null),
    new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT, null)),
  ]);
  if (answer && answer.status < 500) return answer;
  const copy = await kept(request);
  if (copy) return marked(copy);
  return answer || network;
}

/* A kept answer says so: kiosk.js does not take a kept bundle for news from the server. */
function marked(response) {
  const headers = new Headers(response.headers);
  headers.set("X-Kiosk-Kept", "1");
  const { status, statusText } = response;
  return new Response(response.body, { status, statusText, headers });
}

async function cacheFirst(request) {
  return (await kept(request)) || fetch(request);
}
