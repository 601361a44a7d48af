// The logo upload: the chosen image is read in the browser and sent as base64 with its
// type, in an ordinary form post.
(function () {
  "use strict";
  var form = document.getElementById("logo-form");
  var file = document.getElementById("logo-file");
  if (!form || !file) return;
  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    if (!chosen) return;
    var reader = new FileReader();
    reader.onload = function () {
      var url = String(reader.result);
      var comma = url.indexOf(",");
      form.elements.content_type.value = chosen.type;
      form.elements.data.value = url.slice(comma + 1);
    };
    reader.readAsDataURL(chosen);
  });
})();
