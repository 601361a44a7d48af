// The CSV import: a chosen file is read into the text box; "check" sends it whole for a dry
// run; "import" sends it in parts of 500 rows (each with the header) and shows the
// progress, adding up the parts' reports. Without this script the form posts as it is.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var file = document.getElementById("file");
  var text = document.getElementById("csv");
  var progress = document.getElementById("import-progress");
  var report = document.getElementById("import-report");
  if (!form || !text) return;
  var ROWS_PER_PART = 500;

  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    if (!chosen) return;
    var reader = new FileReader();
    reader.onload = function () { text.value = String(reader.result); };
    reader.readAsText(chosen);
  });

  function send(csv, step) {
    var body = new URLSearchParams({ csrf: form.elements.csrf.value, csv: csv, step: step });
    return fetch(form.action, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) throw new Error(json.error || response.statusText);
        return json;
      });
    });
  }

  function show(result, problems) {
    report.textContent = "";
    var summary = document.createElement("p");
    summary.className = problems.length ? "errors" : "notice";
    summary.dataset.testid = "import-summary";
    summary.textContent = result;
    report.appendChild(summary);
    if (problems.length) {
      var list = document.createElement("ul");
      list.className = "list";
      problems.forEach(function (problem) {
        var item = document.createElement("li");
        item.textContent = problem;
        list.appendChild(item);
      });
      report.appendChild(list);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var step = event.submitter ? event.submitter.value : "check";
    var lines = text.value.replace(/^\uFEFF/, "").split(/\r?\n/);
    var header = lines.shift();
    var parts = [];
    for (var at = 0; at < lines.length; at += ROWS_PER_PART) parts.push(lines.slice(at, at + ROWS_PER_PART));
    if (step !== "import") parts = [lines];
    progress.hidden = false;
    progress.max = parts.length;
    progress.value = 0;
    var problems = [];
    var totals = { rows: 0, imported: 0, existing: 0 };
    parts.reduce(function (previous, part, index) {
      return previous.then(function () {
        return send([header].concat(part).join("\n"), step).then(function (result) {
          var offset = index * ROWS_PER_PART;
          result.problems.forEach(function (p) {
            problems.push(form.dataset.line.replace("{line}", p.line + offset) + ": " + p.message);
          });
          totals.rows += result.rows;
          totals.imported += result.imported;
          totals.existing += result.already_members;
          progress.value = index + 1;
        });
      });
    }, Promise.resolve()).then(function () {
      var summary = (step === "import" ? form.dataset.done : form.dataset.dry)
        .replace("{rows}", totals.rows)
        .replace("{imported}", totals.imported)
        .replace("{existing}", totals.existing)
        .replace("{problems}", problems.length);
      show(summary, problems);
    }, function (error) {
      show(error.message, []);
    });
  });
})();
