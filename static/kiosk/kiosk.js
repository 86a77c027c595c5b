/* The kiosk's slideshow (templates/kiosk/player.html). It plays a screen's bundle, keeps the
   last complete bundle in the Cache API (sw.js serves from it) so that it plays on with no
   network or no server and after a reboot, switches to a new bundle only once all of it is
   in, and reports what it shows. Nothing shown depends on the device's clock: timers only.

   Hook for tests and monitoring: at each transition, once the new image is on screen,
   document hears CustomEvent("kiosk:slide", {detail: {portrait, img, languages, version}}). */
"use strict";

(() => {
  const root = document.getElementById("kiosk");
  if (!root) return;

  const SECOND = 1000;
  const FETCH_WAIT = 30 * SECOND; // a request that has not answered by then has failed
  const FIRST_RETRY = 15 * SECOND; // nothing to play yet: look again soon
  const IDLE_AFTER_TOUCH = 60 * SECOND; // back to the loop a minute after the last touch
  const FADE = { auto: 1000, manual: 300 }; // ms, as in kiosk.css
  const SWIPE = 40; // px
  const REPORTS_PER_REQUEST = 500; // kiosk/heartbeat.py MAX_REPORTS
  const REPORTS_KEPT = 20000; // two weeks of minutes offline

  const here = (url) => new URL(url, location.href).href;
  const slug = root.dataset.screen;
  const bundleUrl = here(root.dataset.bundle);
  const heartbeatUrl = here(root.dataset.heartbeat);
  const cachePrefix = `kiosk-${slug}-`;
  const versionKey = `kiosk:${slug}:version`;
  const queueKey = `kiosk:${slug}:heartbeats`;
  // The page's own script and style: a bundle listing others is a new release of the kiosk.
  const ownFiles = [document.currentScript, document.querySelector("link[rel=stylesheet]")]
    .map((element) => element && (element.src || element.href))
    .filter(Boolean);
  const canKeep = window.isSecureContext && "caches" in window;
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const pageRun = Math.random().toString(36).slice(2, 10);
  const stage = root.querySelector(".kiosk-stage");
  const layers = [...stage.querySelectorAll(".kiosk-layer")];
  const panel = root.querySelector(".kiosk-panel");
  const captions = panel.querySelector(".kiosk-captions");
  const place = panel.querySelector(".kiosk-place");
  const credit = panel.querySelector(".kiosk-credit");
  const invite = panel.querySelector(".kiosk-invite");
  const codeList = panel.querySelector(".kiosk-codes");
  const webp = (() => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 1;
    return canvas.toDataURL("image/webp").startsWith("data:image/webp");
  })();

  let bundle = null; // what plays
  let chosen = {}; // portrait -> the one image of it this screen keeps
  let slides = [];
  let kept = null; // the version complete in the cache
  let index = 0;
  let turn = 0; // transitions so far: the caption language follows it
  let front = 0; // the layer on screen
  let current = null; // the portrait on screen
  let shownAt = 0; // when it came (performance.now())
  let moves = Promise.resolve();
  let waiting = null; // the move asked for and not begun: {steps, how}
  let touched = false;
  let autoTimer = 0;
  let idleTimer = 0;
  let refreshTimer = 0;
  let updating = false;
  let sending = false;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // A bundle's timing (seconds), or the server's defaults before there is one.
  const seconds = (name, otherwise) => ((bundle && bundle[name]) || otherwise) * SECOND;

  function remembered(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  }

  function remember(key, value) {
    try {
      localStorage.setItem(key, value);
      return true;
    } catch {
      return false;
    }
  }

  async function fetchWithin(url, options = {}) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), FETCH_WAIT);
    try {
      return await fetch(url, { ...options, signal: abort.signal });
    } finally {
      clearTimeout(timer);
    }
  }

  /* The bundle kept offline. */

  const isOurCache = (name) =>
    name.startsWith(cachePrefix) && /^[0-9a-f]+$/.test(name.slice(cachePrefix.length));

  async function keptBundle() {
    if (!canKeep) return null;
    const names = (await caches.keys()).filter(isOurCache).reverse(); // the newest first
    const last = cachePrefix + remembered(versionKey);
    if (names.includes(last)) names.unshift(last);
    for (const name of names) {
      // The bundle goes in last: a cache that holds it holds everything.
      const stored = await (await caches.open(name)).match(bundleUrl);
      if (stored) return stored.json();
    }
    return null;
  }

  /* One image per portrait: the smallest at least as wide as the picture is drawn here
     (object-fit contain: a tall portrait in a wide area is as wide as the height allows). */
  function chooseImages(next) {
    const box = stage.getBoundingClientRect();
    const width = box.width || window.innerWidth;
    const height = box.height || window.innerHeight;
    const ratio = window.devicePixelRatio || 1;
    const choice = {};
    for (const slide of next.slides) {
      const images = slide.images || {};
      const format = webp && images.webp && images.webp.length ? "webp" : "jpeg";
      const sizes = [...(images[format] || [])];
      if (!sizes.length) continue;
      sizes.sort((a, b) => a.width - b.width);
      const largest = sizes[sizes.length - 1];
      const drawn = Math.min(width, (height * largest.width) / largest.height) * ratio;
      choice[slide.portrait] = (sizes.find((size) => size.width >= drawn) || largest).url;
    }
    return choice;
  }

  async function download(next, choice) {
    const cache = await caches.open(cachePrefix + next.version);
    const versioned = (url) => new URL(url).searchParams.has("v");
    // Images are named by their content and the shell's files by theirs: any copy will do
    // (sw.js gives the one already kept). Pages and QR codes come from the server itself.
    const same = [...Object.values(choice), ...next.shell.filter((url) => versioned(here(url)))];
    const fresh = [...next.shell, ...next.codes.map((code) => code.qr)];
    fresh.push(...next.slides.map((slide) => slide.story.qr));
    const reuse = new Set(same.map(here));
    const left = [...new Set([...same, ...fresh].map(here))];
    const fetchOne = async (url) => {
      if (await cache.match(url)) return; // an earlier try got this far
      const response = await fetchWithin(url, reuse.has(url) ? {} : { cache: "reload" });
      if (!response.ok || response.redirected) throw new Error(`${url}: ${response.status}`);
      await cache.put(url, response);
    };
    await Promise.all(
      [1, 2, 3, 4].map(async () => {
        while (left.length) await fetchOne(left.shift());
      }),
    );
    const stored = JSON.stringify({ ...next, chosen: choice });
    const headers = { "Content-Type": "application/json" };
    await cache.put(bundleUrl, new Response(stored, { headers }));
  }

  async function forgetAllBut(version) {
    for (const name of await caches.keys()) {
      if (isOurCache(name) && name !== cachePrefix + version) await caches.delete(name);
    }
  }

  async function update() {
    const response = await fetchWithin(bundleUrl, { cache: "no-store" });
    // sw.js answers with the kept bundle when the server does not: nothing new then.
    if (!response.ok || response.headers.has("X-Kiosk-Kept")) return;
    const next = await response.json();
    if (next.version === kept) return;
    const choice = chooseImages(next);
    if (!canKeep) {
      kept = next.version;
      play(next, choice);
      return;
    }
    try {
      await download(next, choice);
    } catch (error) {
      if (!bundle) play(next, choice); // nothing to show yet: from the network meanwhile
      throw error;
    }
    kept = next.version;
    remember(versionKey, kept);
    await play(next, choice); // on screen before the old bundle's files go
    await forgetAllBut(kept);
    const listed = next.shell.map(here);
    if (ownFiles.some((file) => !listed.includes(file))) location.reload();
  }

  async function refresh() {
    clearTimeout(refreshTimer);
    if (!updating) {
      updating = true;
      try {
        await update();
      } catch {
        // No network, no server, or a file missing: play on, and try again later.
      } finally {
        updating = false;
      }
    }
    refreshTimer = setTimeout(refresh, bundle ? seconds("refresh_seconds", 300) : FIRST_RETRY);
  }

  /* The slideshow. Transitions run one after the other (`moves`). */

  function queueMove(task) {
    moves = moves
      .then(task)
      .catch(() => {})
      .then(planNext);
    return moves;
  }

  function planNext() {
    clearTimeout(autoTimer);
    if (bundle && !touched) {
      // A slide stays its seconds from the moment it came, its fade included.
      const left = seconds("seconds_per_slide", 12) - (performance.now() - shownAt);
      autoTimer = setTimeout(() => step(1, "auto"), Math.max(0, left));
    }
  }

  function step(delta, how) {
    if (waiting) {
      // Keys pressed before the move begins add up; a touch overrides the loop's step.
      if (how === "manual" && waiting.how === "auto") Object.assign(waiting, { steps: 0, how });
      waiting.steps += delta;
      return;
    }
    waiting = { steps: delta, how };
    queueMove(async () => {
      const move = waiting;
      waiting = null;
      if (move.steps) await show(index + move.steps, Math.sign(move.steps), move.how);
    });
  }

  function play(next, choice) {
    return queueMove(async () => {
      const before = current;
      bundle = next;
      chosen = choice;
      slides = next.slides.filter((slide) => chosen[slide.portrait]);
      const same = slides.findIndex((slide) => slide.portrait === before);
      // A portrait that left the bundle leaves the screen now; the one after it takes its place.
      await show(same >= 0 ? same : index, 1, "auto");
    });
  }

  function languagesNow() {
    const order = bundle.languages && bundle.languages.length ? bundle.languages : ["fr"];
    if (bundle.languages_together && order.length > 1) return order.slice(0, 2);
    return [order[turn % order.length]];
  }

  function inLanguage(texts, language) {
    for (const each of [language, ...bundle.languages, "fr", "es", "en"]) {
      if (texts && texts[each]) return [texts[each], each];
    }
    return ["", language];
  }

  function element(name, className, text, lang) {
    const made = document.createElement(name);
    if (className) made.className = className;
    if (text) made.textContent = text;
    if (lang) made.lang = lang;
    return made;
  }

  /* A phrase of the kiosk's own in each language on screen: "Faire un don / Donar". */
  function phrase(key, languages, credit) {
    const parts = [];
    for (const language of languages) {
      const words = bundle.words[language] || bundle.words.fr;
      if (parts.length) parts.push(element("span", "kiosk-together", "/"));
      parts.push(element("span", "", words[key].replace("{credit}", credit || ""), language));
    }
    return parts;
  }

  const qrImages = new Map(); // address -> a decoded <img>, drawn at once when shown

  async function qrImage(url, address) {
    if (!qrImages.has(url)) {
      const image = element("img", "kiosk-qr");
      image.alt = address; // what the code says; its label is beside it
      image.src = url;
      await image.decode();
      qrImages.set(url, image);
    }
    return qrImages.get(url);
  }

  async function codesOf(slide) {
    const codes = slide && slide.story ? [{ target: "story", ...slide.story }] : [];
    codes.push(...bundle.codes);
    const ready = await Promise.all(
      codes.map((code) =>
        qrImage(here(code.qr), code.url).then((image) => ({ code, image }), () => null),
      ),
    );
    return ready.filter(Boolean);
  }

  function drawPanel(slide, languages, codes) {
    document.documentElement.lang = languages[0];
    panel.lang = languages[0];
    const shown = [];
    for (const language of languages) {
      const [text, lang] = inLanguage(slide ? slide.captions : {}, language);
      if (text && !shown.some((caption) => caption.lang === lang)) {
        shown.push(element("p", "kiosk-caption", text, lang));
      }
    }
    captions.replaceChildren(...shown);
    place.textContent = (slide && slide.place) || "";
    const by = slide && slide.credit ? phrase("photo", languages, slide.credit) : [];
    credit.replaceChildren(...by);
    invite.replaceChildren(...(codes.length ? phrase("scan", languages) : []));
    codeList.replaceChildren(
      ...codes.map(({ code, image }) => {
        const item = element("li", "kiosk-code");
        const label = element("span", "kiosk-code-label");
        label.append(...phrase(code.target, languages));
        item.append(image, label);
        return item;
      }),
    );
  }

  async function show(target, direction, how) {
    if (!slides.length) {
      layers.forEach((layer) => layer.classList.remove("kiosk-shown"));
      current = null;
      shownAt = performance.now();
      drawPanel(null, languagesNow(), await codesOf(null));
      root.classList.add("kiosk-playing");
      return;
    }
    for (let tries = 0; tries < slides.length; tries += 1, target += direction) {
      const at = ((target % slides.length) + slides.length) % slides.length;
      const slide = slides[at];
      const incoming = layers[1 - front];
      const outgoing = layers[front];
      incoming.src = chosen[slide.portrait];
      try {
        await incoming.decode(); // fetched and decoded before it shows: never half drawn
      } catch {
        continue; // neither kept nor reachable: the next one
      }
      const languages = languagesNow();
      const codes = await codesOf(slide);
      const [alt, altLanguage] = inLanguage(slide.alts, languages[0]);
      incoming.alt = alt;
      incoming.lang = altLanguage;
      incoming.removeAttribute("aria-hidden");
      outgoing.alt = "";
      outgoing.setAttribute("aria-hidden", "true");
      stage.classList.toggle("kiosk-quick", how === "manual");
      incoming.classList.add("kiosk-shown");
      outgoing.classList.remove("kiosk-shown");
      front = 1 - front;
      shownAt = performance.now();
      drawPanel(slide, languages, codes);
      root.classList.add("kiosk-playing");
      index = at;
      current = slide.portrait;
      turn += 1;
      root.dataset.portrait = current;
      root.dataset.version = bundle.version;
      const detail = { portrait: current, img: incoming, languages, version: bundle.version };
      document.dispatchEvent(new CustomEvent("kiosk:slide", { detail }));
      await sleep(reducedMotion.matches ? 0 : FADE[how]); // the fade ends before the next
      return;
    }
    shownAt = performance.now(); // nothing could be drawn: the next try in a slide's time
  }

  /* Keys, taps (left half back, right half on) and swipes; the loop comes back a minute
     after the last of them. */

  function touch(delta) {
    touched = true;
    clearTimeout(autoTimer);
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      touched = false;
      step(1, "auto");
    }, IDLE_AFTER_TOUCH);
    if (delta) step(delta, "manual");
  }

  const KEYS = { ArrowRight: 1, ArrowDown: 1, PageDown: 1, " ": 1 };
  Object.assign(KEYS, { ArrowLeft: -1, ArrowUp: -1, PageUp: -1 });
  document.addEventListener("keydown", (event) => {
    const delta = KEYS[event.key];
    if (!delta) return;
    event.preventDefault();
    touch(delta);
  });

  let pressed = null;
  document.addEventListener("pointerdown", (event) => {
    pressed = { x: event.clientX, y: event.clientY };
  });
  document.addEventListener("pointercancel", () => {
    pressed = null;
  });
  document.addEventListener("pointerup", (event) => {
    if (!pressed) return;
    const dx = event.clientX - pressed.x;
    const dy = event.clientY - pressed.y;
    pressed = null;
    if (Math.abs(dx) >= SWIPE && Math.abs(dx) > Math.abs(dy)) touch(dx < 0 ? 1 : -1);
    else if (Math.abs(dx) < SWIPE && Math.abs(dy) < SWIPE) {
      touch(event.clientX < window.innerWidth / 2 ? -1 : 1);
    } else touch(0);
  });

  /* Heartbeat: a report queued in localStorage at each beat, the queue sent in parts; only
     what the server took leaves it. Reports carry their age, not a time. */

  function queued() {
    try {
      return JSON.parse(remembered(queueKey)) || [];
    } catch {
      return [];
    }
  }

  function keepQueue(reports) {
    // A full storage loses the oldest half, not the newest report.
    while (!remember(queueKey, JSON.stringify(reports)) && reports.length) {
      reports = reports.slice(Math.ceil(reports.length / 2));
    }
  }

  async function send() {
    if (sending) return;
    sending = true;
    try {
      for (;;) {
        const part = queued().slice(0, REPORTS_PER_REQUEST);
        if (!part.length) return;
        const now = Date.now();
        const monotonic = performance.now();
        // This page's own reports are timed by its monotonic clock: a device clock put right
        // once the network is back (a Raspberry Pi has no battery clock) moves none of them.
        const age = ([at, , , run, since]) => (run === pageRun ? monotonic - since : now - at);
        const reports = part.map((report) => ({
          seconds_ago: Math.max(0, Math.round(age(report) / SECOND)),
          portrait: report[1],
          bundle_version: report[2],
        }));
        const response = await fetchWithin(heartbeatUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ reports }),
        });
        // 400: reports the server will never take; anything else but a yes: try again later.
        if (!response.ok && response.status !== 400) return;
        keepQueue(queued().slice(part.length));
      }
    } catch {
      // Offline: the queue waits for the next beat.
    } finally {
      sending = false;
    }
  }

  function beat() {
    const version = bundle ? bundle.version : "";
    const report = [Date.now(), current, version, pageRun, Math.round(performance.now())];
    keepQueue([...queued(), report].slice(-REPORTS_KEPT));
    send();
    setTimeout(beat, seconds("heartbeat_seconds", 60));
  }

  async function start() {
    if (canKeep && "serviceWorker" in navigator) {
      const scope = here(root.dataset.scope);
      navigator.serviceWorker.register(here(root.dataset.serviceWorker), { scope }).catch(() => {});
    }
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    const stored = await keptBundle().catch(() => null);
    if (stored) {
      kept = stored.version;
      play(stored, stored.chosen || chooseImages(stored));
    }
    window.addEventListener("online", refresh);
    await refresh();
    await moves; // the first slide is on screen: the first report names it
    beat();
  }

  start();
})();
