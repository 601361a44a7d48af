// The counter: scan the member QR with the camera. The browser's BarcodeDetector reads the
// frames where there is one (Android Chrome); elsewhere (iOS Safari, desktop Linux) the
// bundled jsQR decoder does. Staff can always type the code instead.
(function () {
  "use strict";
  var button = document.getElementById("scan");
  var video = document.getElementById("camera");
  var status = document.getElementById("scan-status");
  if (!button || !video) return;
  var stream = null;
  var label = button.textContent;

  function stop() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true;
    button.textContent = label;
  }

  function found(text) {
    stop();
    var code = text.indexOf("SG1:") === 0 ? text.slice(4) : text;
    window.location.href = "/counter?q=" + encodeURIComponent(code);
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  // A function that reads one video frame: the QR code's text, or null.
  function reader() {
    if ("BarcodeDetector" in window) {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return Promise.resolve(function () {
        return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      });
    }
    return loadScript("/static/vendor/jsQR.js").then(function () {
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      return function () {
        var width = video.videoWidth, height = video.videoHeight;
        if (!width || !height) return Promise.resolve(null);
        canvas.width = width;
        canvas.height = height;
        context.drawImage(video, 0, 0, width, height);
        var code = window.jsQR(context.getImageData(0, 0, width, height).data, width, height, { inversionAttempts: "dontInvert" });
        return Promise.resolve(code ? code.data : null);
      };
    });
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = button.dataset.unsupported;
      return;
    }
    var read;
    reader().then(function (r) {
      read = r;
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      button.textContent = button.dataset.stop;
      return video.play();
    }).then(function scanFrame() {
      if (!stream) return;
      read().then(function (text) {
        if (text) found(text);
        else setTimeout(scanFrame, 120);
      }, function () { setTimeout(scanFrame, 120); });
    }).catch(function () {
      stop();
      status.textContent = button.dataset.unsupported;
    });
  });
})();

// The offline queue: forms marked data-queue are sent with fetch. When the network is
// down, the action is kept on this device (localStorage) with its own idempotency key and
// sent when the connection is back; the server applies each key once, so a retry never
// awards twice. The status line says what is still waiting.
(function () {
  "use strict";
  var STORE = "stammgast-counter-queue";
  var status = document.getElementById("queue-status");

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }
  function save(queue) { localStorage.setItem(STORE, JSON.stringify(queue)); }
  function freshKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }
  // Once something waited, the line says when all of it has been sent.
  var waited = false;
  function show() {
    if (!status) return;
    var waiting = load().length;
    if (waiting > 0) waited = true;
    status.textContent = waiting > 0 ? status.dataset.pending.replace("{count}", waiting) : (waited ? status.dataset.done : "");
    status.className = waiting > 0 ? "errors" : (waited ? "notice" : "");
  }
  function post(item) {
    return fetch(item.action, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(item.fields).toString(),
      credentials: "same-origin",
    });
  }
  function replaceMain(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var main = page.querySelector("main");
    if (main) document.querySelector("main").replaceWith(main);
    status = document.getElementById("queue-status");
    show();
  }
  var flushing = false;
  function flush() {
    if (flushing) return;
    var queue = load();
    if (queue.length === 0) { show(); return; }
    flushing = true;
    post(queue[0]).then(function (response) {
      // Any answer from the server settles the action (applied now, or applied before
      // under the same key, or refused with a reason); only a lost connection keeps it.
      save(load().slice(1));
      flushing = false;
      if (load().length === 0) {
        return response.text().then(replaceMain);
      }
      flush();
    }, function () { flushing = false; show(); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-queue")) return;
    event.preventDefault();
    var fields = {};
    new FormData(form).forEach(function (value, name) { fields[name] = value; });
    var item = { action: form.getAttribute("action"), fields: fields };
    if (!navigator.onLine || load().length > 0) {
      // Never sent: a key of its own, so two queued visits count as two.
      fields.key = freshKey();
      var queue = load();
      queue.push(item);
      save(queue);
      show();
      flush();
      return;
    }
    post(item).then(function (response) {
      return response.text().then(replaceMain);
    }, function () {
      // The request may have reached the server before the connection broke: the retry
      // keeps its key, so it is applied at most once.
      var queue = load();
      queue.push(item);
      save(queue);
      show();
    });
  });
  window.addEventListener("online", flush);
  show();
  flush();
})();
