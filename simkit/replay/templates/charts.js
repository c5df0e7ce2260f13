// Interactive line charts of the run's metric series (uPlot, inlined in the page: no network).
// Reads the same JSON block as report.js; one chart per series, one line per run overlaid,
// vertical lines at the plugin's marks (e.g. an attack's start). Hover shows values; a click
// on a legend entry hides or shows that run.
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("run-data").textContent);
  const box = document.getElementById("charts");
  if (!box || !DATA.charts || typeof uPlot === "undefined") return;
  const COLORS = ["#2f6fb0", "#d04a02", "#2a9d5b", "#8e44ad", "#b8860b", "#c0392b", "#16a085", "#555"];

  function marksPlugin(marks) {
    return {
      hooks: {
        draw: [function (u) {
          const c = u.ctx;
          c.save();
          c.strokeStyle = "#c0392b";
          c.fillStyle = "#c0392b";
          c.setLineDash([4, 3]);
          c.lineWidth = 1.5 * devicePixelRatio;
          c.font = (10 * devicePixelRatio) + "px sans-serif";
          for (const m of marks) {
            const x = Math.round(u.valToPos(m[0], "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            c.beginPath();
            c.moveTo(x, u.bbox.top);
            c.lineTo(x, u.bbox.top + u.bbox.height);
            c.stroke();
            c.fillText(m[1], x + 3 * devicePixelRatio, u.bbox.top + 10 * devicePixelRatio);
          }
          c.restore();
        }],
      },
    };
  }

  for (const spec of DATA.charts) {
    const fig = document.createElement("figure");
    fig.className = "chart";
    fig.dataset.key = spec.key;
    fig.dataset.points = String(spec.ys.reduce((n, ys) => n + ys.filter((v) => v !== null).length, 0));
    const cap = document.createElement("figcaption");
    cap.textContent = spec.key + (spec.unit ? " (" + spec.unit + ")" : "");
    fig.append(cap);
    box.append(fig);
    const series = [{ label: DATA.axis_title }];
    const markXs = (spec.marks || []).map((m) => m[0]);
    spec.runs.forEach(function (run, i) {
      series.push({ label: run, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true, points: { show: spec.xs.length <= 60 } });
    });
    const opts = {
      width: 380,
      height: 200,
      series: series,
      legend: { show: true, live: true },
      scales: { x: { time: false, range: function (u, lo, hi) {
        return [Math.min.apply(null, [lo].concat(markXs)), Math.max.apply(null, [hi].concat(markXs))];
      } } },
      axes: [{ label: DATA.axis, size: 40, labelSize: 16 }, { label: spec.unit || spec.name, size: 50, labelSize: 16 }],
      plugins: [marksPlugin(spec.marks || [])],
    };
    const plot = new uPlot(opts, [spec.xs].concat(spec.ys), fig);
    (window.simkitCharts = window.simkitCharts || []).push(plot);
  }
})();
