// The report pages' charts (templates/reports/_table.html): each <canvas data-chart="ID"> is drawn
// with Chart.js from the JSON of <script type="application/json" id="ID"> (json_script, so no inline
// script: see the CSP). The same figures are in the table under each chart, which is what prints and
// what screen readers read (the canvas has role="img", an aria-label and aria-describedby the table).
//
// Colour-blind safe: the Okabe–Ito palette, and never colour alone — bars carry a pattern per series,
// lines a dash and a point style per series, and the legend is always shown. Numbers are written with
// Intl.NumberFormat in the page's language. Animation is off (printing and reduced motion); on
// beforeprint the charts are resized to the paper.
//
// Each drawn canvas gets data-chart-ready="1"; Chart.getChart(canvas) returns its Chart.
"use strict";
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
// The report nav scrolls sideways on a phone: show the current page's tab.
document.querySelectorAll(".report-nav .nav-link.active").forEach((link) => {
  const nav = link.closest(".nav");
  nav.scrollLeft = link.offsetLeft - (nav.clientWidth - link.offsetWidth) / 2;
});
(function () {
  if (typeof window.Chart === "undefined") {
    return;
  }
  const Chart = window.Chart;
  const lang = document.documentElement.lang || "ja";
  // Okabe & Ito (2008), the yellow swapped for amber (readable on white), black last.
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F5C710", "#000000"];
  const DASHES = [[], [6, 4], [2, 3], [10, 4, 2, 4], [12, 6], [4, 2, 4, 8], [1, 4], [8, 2]];
  const POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star", "rectRounded", "cross"];
  const FONT = 'system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans JP", "Yu Gothic", Meiryo, sans-serif';

  Chart.defaults.font.family = FONT;
  Chart.defaults.color = "#212529";
  Chart.defaults.animation = false;

  const formats = {
    count: new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }),
    yen: new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }),
    percent: new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    days: new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
  };

  function formatValue(unit, value) {
    if (value === null || value === undefined) {
      return "";
    }
    if (unit === "percent") {
      return formats.percent.format(value / 100);
    }
    if (unit === "yen") {
      const digits = formats.yen.format(value);
      return lang.startsWith("ja") ? digits + "円" : "¥" + digits;
    }
    return (formats[unit] || formats.count).format(value);
  }

  function tickValue(unit, value) {
    if (unit === "days") {
      return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(value);
    }
    if (unit === "percent") {
      return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 }).format(value / 100);
    }
    return formatValue(unit, value);
  }

  // A bar's fill for series i: the colour, and from the second series on a pattern over it (stripes,
  // dots, cross-hatch…), so that neighbouring series differ in more than hue.
  function pattern(i) {
    const colour = PALETTE[i % PALETTE.length];
    const kind = i % 6;
    if (kind === 0) {
      return colour;
    }
    const size = 10;
    const tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "rgba(255, 255, 255, 0.75)";
    ctx.fillStyle = "rgba(255, 255, 255, 0.75)";
    ctx.lineWidth = 2;
    ctx.beginPath();
    if (kind === 1) {
      ctx.moveTo(0, size);
      ctx.lineTo(size, 0);
      ctx.moveTo(-size / 2, size / 2);
      ctx.lineTo(size / 2, -size / 2);
      ctx.moveTo(size / 2, size * 1.5);
      ctx.lineTo(size * 1.5, size / 2);
      ctx.stroke();
    } else if (kind === 2) {
      ctx.arc(size / 2, size / 2, 1.8, 0, 2 * Math.PI);
      ctx.fill();
    } else if (kind === 3) {
      ctx.moveTo(0, size / 2);
      ctx.lineTo(size, size / 2);
      ctx.stroke();
    } else if (kind === 4) {
      ctx.moveTo(size / 2, 0);
      ctx.lineTo(size / 2, size);
      ctx.stroke();
    } else {
      ctx.moveTo(0, 0);
      ctx.lineTo(size, size);
      ctx.moveTo(size, 0);
      ctx.lineTo(0, size);
      ctx.stroke();
    }
    return ctx.createPattern(tile, "repeat") || colour;
  }

  // A long category label on several lines ("Loan · Japanese university library" → two), shorter
  // lines on a narrow screen, so that a horizontal bar chart's labels are not cut off.
  function wrapLabel(label, width) {
    const parts = String(label).split(" · ");
    const lines = [];
    parts.forEach((part) => {
      if (!/\s/.test(part) && /[\u3000-\u9fff\uff00-\uffef]/.test(part)) {
        // Japanese has no spaces: cut every width/2 characters (each is two columns wide).
        const size = Math.max(4, Math.floor(width / 2));
        for (let i = 0; i < part.length; i += size) {
          lines.push(part.slice(i, i + size));
        }
        return;
      }
      let line = "";
      part.split(/(\s+)/).forEach((word) => {
        if (line && (line + word).trim().length > width) {
          lines.push(line.trim());
          line = word.trimStart();
        } else {
          line += word;
        }
      });
      if (line.trim()) {
        lines.push(line.trim());
      }
    });
    return lines.length > 1 ? lines : lines[0] || "";
  }

  function datasets(spec) {
    const line = spec.kind === "line";
    return spec.series.map((series, i) => {
      const colour = PALETTE[i % PALETTE.length];
      if (line) {
        return {
          label: series.label,
          data: series.data,
          borderColor: colour,
          backgroundColor: colour,
          borderDash: DASHES[i % DASHES.length],
          pointStyle: POINTS[i % POINTS.length],
          pointRadius: 4,
          pointHoverRadius: 6,
          borderWidth: 2,
          spanGaps: false,
        };
      }
      return {
        label: series.label,
        data: series.data,
        backgroundColor: pattern(i),
        borderColor: colour,
        borderWidth: 1,
      };
    });
  }

  function config(spec) {
    const horizontal = spec.kind === "hbar";
    const stacked = spec.kind === "stacked";
    const unit = spec.unit || "count";
    const valueAxis = {
      beginAtZero: true,
      stacked: stacked,
      ticks: { callback: (value) => tickValue(unit, value) },
    };
    if (unit === "count") {
      valueAxis.ticks.precision = 0; // whole numbers only: no 0.5 request
    }
    const categoryAxis = { stacked: stacked, ticks: { autoSkip: !horizontal, maxRotation: 0 } };
    return {
      type: spec.kind === "line" ? "line" : "bar",
      data: {
        labels: spec.labels.map((label) => wrapLabel(label, window.innerWidth < 576 || !horizontal ? 14 : 28)),
        datasets: datasets(spec),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        plugins: {
          legend: {
            display: true,
            position: "bottom",
            labels: { usePointStyle: spec.kind === "line", boxWidth: 18, boxHeight: 12 },
          },
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label}: ${formatValue(unit, item.raw)}`,
            },
          },
        },
      },
    };
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) {
      return;
    }
    let spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    if (spec.kind === "hbar") {
      // One bar row per label: the box grows with them (CSSOM, allowed by the CSP).
      // A label wrapped on several lines (a phone) needs a taller row, or the labels overlap.
      const width = window.innerWidth < 576 ? 14 : 28;
      const lines = spec.labels.reduce((sum, label) => {
        const wrapped = wrapLabel(label, width);
        return sum + (Array.isArray(wrapped) ? wrapped.length : 1);
      }, 0);
      canvas.parentElement.style.height = `${Math.max(12, lines * 1.15 + spec.labels.length * 0.6 + 5)}rem`;
    }
    new Chart(canvas, config(spec));
    canvas.dataset.chartReady = "1";
  }

  function resizeAll() {
    Object.values(Chart.instances).forEach((chart) => chart.resize());
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);

  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  if (window.matchMedia) {
    const print = window.matchMedia("print");
    if (print.addEventListener) {
      print.addEventListener("change", resizeAll);
    }
  }
})();
