// Draw each dashboard chart from the JSON the page carries (no inline script): on the charts page as it
// loads, and on the dashboard when htmx brings the charts in (they load as they scroll into view).
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  // NHS identity colours: blue, dark pink, warm yellow, green, grey.
  var palette = ["#005eb8", "#7c2855", "#ffb81c", "#007f3b", "#4c6272"];

  function draw(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source || Chart.getChart(canvas)) return;
      var config = JSON.parse(source.textContent);
      config.datasets.forEach(function (dataset, index) {
        var colour = palette[index % palette.length];
        dataset.backgroundColor = colour;
        dataset.borderColor = colour;
        if (dataset.type === "line") {
          dataset.borderDash = [6, 4];
          dataset.pointRadius = 0;
          dataset.fill = false;
        }
      });
      var options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
      new Chart(canvas, { type: config.type, data: { labels: config.labels, datasets: config.datasets }, options: options });
    });
  }

  draw(document);
  document.addEventListener("htmx:load", function (event) {
    draw(event.detail.elt);
  });
})();
