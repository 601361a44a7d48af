// The counter: scan the member QR with the camera where the browser can (BarcodeDetector),
// otherwise staff type the code.
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

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
      status.textContent = button.dataset.unsupported;
      return;
    }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      button.textContent = button.dataset.stop;
      return video.play();
    }).then(function scanFrame() {
      if (!stream) return;
      detector.detect(video).then(function (codes) {
        if (codes.length > 0) found(codes[0].rawValue);
        else requestAnimationFrame(scanFrame);
      }, function () { requestAnimationFrame(scanFrame); });
    }).catch(function () {
      stop();
      status.textContent = button.dataset.unsupported;
    });
  });
})();
