// The registrar import's page (templates/admin/patrons/patron/import_job.html): polls the job's
// JSON status while it is queued or running (its check, then its apply), moves the <progress>
// bar, and reloads the page once the job has stopped running (checked, applied or failed) so
// that the server renders the preview or the result. Without JavaScript the page has a
// "Refresh" link instead.
(function () {
  "use strict";
  var box = document.getElementById("patron-import");
  if (!box) return;
  var state = box.dataset.state;
  if (state !== "queued" && state !== "running") return;
  var url = box.dataset.statusUrl;
  var interval = parseInt(box.dataset.interval || "1000", 10);
  var bar = box.querySelector("[data-job-progress]");
  var stateText = box.querySelector("[data-job-state]");
  var stepText = box.querySelector("[data-job-step]");
  var counts = box.querySelector("[data-job-counts]");
  var problems = box.querySelector("[data-job-problems]");
  var failures = 0;

  function show(status) {
    box.dataset.state = status.state;
    bar.max = status.lines_total;
    bar.value = status.finished && status.state !== "failed" ? status.lines_total : status.lines_read;
    bar.textContent = status.percent + " %";
    stateText.textContent = status.state_label;
    if (stepText) stepText.textContent = status.step_label;
    counts.textContent = status.lines_read + " / " + status.lines_total;
    problems.textContent = status.problems ? "⚠ " + status.problems : "";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (status) {
        failures = 0;
        show(status);
        if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, interval);
        }
      })
      .catch(function () {
        failures += 1; // a restarting server: keep trying, more slowly
        window.setTimeout(poll, Math.min(interval * (failures + 1), 15000));
      });
  }

  window.setTimeout(poll, interval);
})();
