// gdbench report.html glue: draws the uPlot charts described in the page's JSON and makes the
// tables sortable (tablesort) and filterable. Everything else is in the libraries.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("gd-data").textContent);

  // numbers in data-sort attributes (∞ = Infinity) sort numerically; the rest as text
  Tablesort.extend("gdnum", function (item) {
    return /^-?(\d|Infinity)/.test(item);
  }, function (a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    return x === y ? 0 : (x < y ? 1 : -1);
  });

  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    var a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(2) : String(+v.toPrecision(4));
  }

  // log axes: one tick per decade (or every few decades), labelled 1e-6, 0.01, 1, 100, 1e+4
  function logSplits(u, axis, min, max) {
    var lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max)), out = [];
    var step = Math.max(1, Math.ceil((hi - lo) / 7));
    for (var e = lo; e <= hi; e += step) {
      var v = Math.pow(10, e);
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
    return out;
  }
  function logValues(u, vals) {
    return vals.map(function (v) {
      return v == null ? "" : ((v < 1e-3 || v >= 1e4) ? v.toExponential(0) : String(v));
    });
  }
  function axis(label, log, size) {
    var a = {label: label};
    if (size) a.size = size;
    if (log) { a.splits = logSplits; a.values = logValues; }
    return a;
  }

  function chart(spec, el) {
    var tip = document.createElement("div");
    tip.className = "gd-tip";
    el.appendChild(tip);
    var focused = null;
    var series = [{label: spec.xlabel}];
    spec.series.forEach(function (s) {
      series.push({label: s.label, stroke: s.color, width: s.width || 1.5, dash: s.dash || undefined,
                   points: {show: !!s.points, size: 5, fill: s.color}, spanGaps: false,
                   paths: s.step ? uPlot.paths.stepped({align: 1}) : undefined});
    });
    var xs = spec.xlog ? {distr: 3} : {time: false};
    xs.time = false;
    var opts = {
      width: Math.max(320, el.clientWidth || 600), height: spec.height || 300,
      title: spec.title,
      scales: {x: xs, y: spec.ylog ? {distr: 3} : {range: spec.yrange || null}},
      axes: [axis(spec.xlabel, spec.xlog), axis(spec.ylabel, spec.ylog, 70)],
      series: series,
      legend: {show: false},
      cursor: {focus: {prox: 24}, drag: {x: true, y: false}},
      focus: {alpha: 0.25},
      hooks: {
        setSeries: [function (u, i) { focused = i; }],
        setCursor: [function (u) {
          var i = u.cursor.idx;
          if (i == null || focused == null || u.cursor.left < 0) { tip.style.display = "none"; return; }
          var s = spec.series[focused - 1], y = u.data[focused][i];
          if (!s || y == null) { tip.style.display = "none"; return; }
          tip.innerHTML = "<b>" + s.label + "</b><br>" + spec.xlabel + " " + fmt(u.data[0][i]) + ": " + fmt(y);
          tip.style.display = "block";
          tip.style.left = (u.over.offsetLeft + u.cursor.left + 12) + "px";
          tip.style.top = (u.over.offsetTop + u.cursor.top + 12) + "px";
        }],
        draw: [function (u) {
          (spec.vlines || []).forEach(function (v) {
            var x = u.valToPos(v.x, "x", true), ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = "#444"; ctx.setLineDash([4, 4]); ctx.lineWidth = 1;
            ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
            ctx.fillStyle = "#222"; ctx.font = "12px sans-serif"; ctx.fillText(v.label, x + 4, u.bbox.top + 14);
            ctx.restore();
          });
        }]
      }
    };
    var cols = [spec.x].concat(spec.series.map(function (s) { return s.y; }));
    return new uPlot(opts, cols, el);
  }

  window.gdCharts = {};  // uPlot instances by element id (for scripting and tests)
  data.charts.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    if (el) window.gdCharts[spec.id] = chart(spec, el);
  });

  Array.prototype.forEach.call(document.querySelectorAll("table.gd-table"), function (table) {
    new Tablesort(table);
    var box = document.getElementById(table.id + "-filter");
    if (!box) return;
    box.addEventListener("input", function () {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var text = row.textContent.toLowerCase();
        row.style.display = words.every(function (w) { return text.indexOf(w) >= 0; }) ? "" : "none";
      });
    });
  });
})();
