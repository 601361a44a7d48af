// The card page: installs the service worker (offline card), offers the system share sheet
// where the browser has one, and copies the referral link.
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }
  var offline = document.querySelector(".offline-note");
  function showConnection() { if (offline) offline.hidden = navigator.onLine; }
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  showConnection();

  var url = document.getElementById("referral-url");
  var share = document.getElementById("share");
  if (share && url && navigator.share) {
    share.hidden = false;
    share.addEventListener("click", function () {
      navigator.share({ text: share.dataset.text, url: url.value }).catch(function () {});
    });
  }
  var copy = document.getElementById("copy");
  if (copy && url) {
    copy.addEventListener("click", function () {
      var done = function () { copy.textContent = copy.dataset.done; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(url.value).then(done, function () { url.select(); });
      } else {
        url.select();
        document.execCommand("copy");
        done();
      }
    });
  }
})();
