// The dashboard's charts, drawn with uPlot from the series the page carries in
// #dashboard-data. The numbers themselves are also on the page and in the CSV downloads.
(function () {
  "use strict";
  var holder = document.getElementById("dashboard-data");
  if (!holder || typeof uPlot === "undefined") return;
  var data = JSON.parse(holder.dataset.series);
  var numbers = new Intl.NumberFormat(data.locale, { maximumFractionDigits: 0 });
  var euros = new Intl.NumberFormat(data.locale, { style: "currency", currency: "EUR", maximumFractionDigits: 0 });
  var months = new Intl.DateTimeFormat(data.locale, { month: "short", year: "numeric", timeZone: "UTC" });
  var colours = ["#8c2f1b", "#1f5f8b", "#5b7f1e"];
  var time = { label: data.labels.month, value: function (u, v) { return v == null ? "–" : months.format(new Date(v * 1000)); } };

  function line(label, values, colour, scale) {
    return { label: label, stroke: colour, width: 2, scale: scale || "y", value: function (u, v) { return v == null ? "–" : numbers.format(v); } };
  }

  function axis(scale, format, side) {
    return { scale: scale, side: side || 3, values: function (u, splits) { return splits.map(format); }, size: 64 };
  }

  function draw(element, series, values, axes, extra) {
    var options = Object.assign({
      width: Math.max(280, element.clientWidth),
      height: 220,
      series: [time].concat(series),
      axes: [{}].concat(axes),
      scales: { x: { time: true } },
    }, extra || {});
    return new uPlot(options, [data.months].concat(values), element);
  }

  var charts = {
    members: function (element) {
      draw(element, [line(data.labels.members, data.members, colours[0]), line(data.labels.active, data.active, colours[1])],
        [data.members, data.active], [axis("y", numbers.format)]);
    },
    visits: function (element) {
      draw(element, [line(data.labels.visits, data.visits, colours[0]), line(data.labels.revenue, data.revenue, colours[1], "euro")],
        [data.visits, data.revenue], [axis("y", numbers.format), axis("euro", euros.format, 1)]);
    },
    redemptions: function (element) {
      draw(element, [line(data.labels.coupons, data.coupons, colours[0]), line(data.labels.points_redeemed, data.points_redeemed, colours[1], "points")],
        [data.coupons, data.points_redeemed], [axis("y", numbers.format), axis("points", numbers.format, 1)]);
    },
    liability: function (element) {
      draw(element, [line(data.labels.liability, data.liability, colours[0])], [data.liability], [axis("y", euros.format)]);
    },
    segments: function (element) {
      var names = data.segment_names;
      var positions = names.map(function (_, index) { return index; });
      new uPlot({
        width: Math.max(280, element.clientWidth),
        height: 220,
        series: [{}, { label: names.join(", "), fill: colours[0] + "cc", stroke: colours[0], paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } }],
        scales: { x: { time: false, range: [-0.5, names.length - 0.5] } },
        axes: [{ splits: function () { return positions; }, values: function (u, splits) { return splits.map(function (i) { return names[i] || ""; }); }, rotate: -30, size: 70, font: "11px sans-serif" }, axis("y", numbers.format)],
        legend: { show: false },
      }, [positions, data.segments], element);
    },
  };

  if (data.months.length === 0) return;
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var draw = charts[element.dataset.chart];
    if (draw) draw(element);
  });
})();
