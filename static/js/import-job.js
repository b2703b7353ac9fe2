// An import job's page in the admin (the holdings: templates/admin/ill/localholding/import_job.html;
// the registrar's patrons: templates/admin/patrons/patron/import_job.html). The box marked
// data-import-job says where to ask (data-status-url), how often (data-interval, ms) and what the
// job is doing (data-state). While it is queued or running the script polls the job's JSON status
// (lines_read, lines_total, percent, state, state_label, step_label, problems, finished), moves the
// <progress data-job-progress> bar and the texts marked data-job-state, data-job-step (optional),
// data-job-counts and data-job-problems, and reloads the page once the job has stopped running so
// that the server renders the report, preview or result. Without JavaScript the page has a
// "Refresh" link instead.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-job]");
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
    // a job that finished well read everything; a failed one shows where it stopped
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
