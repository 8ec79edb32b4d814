// One uPlot chart per metric. Raw samples draw as a line; rollup buckets
// draw their mean with the min..max band around it. The x axis spans the
// range the user chose (the last 15 minutes when live), not just the span of
// the data: a node that started a minute ago fills the right edge of the live
// window, as in Grafana, instead of being stretched across the whole chart.
import uPlot from 'uplot';

const kColors = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#db2777', '#0891b2'];

export class MetricChart {
  // visibleRange() -> { from, to } in ms since the epoch, asked on every redraw.
  constructor(container, { metric, unit, colorIndex, visibleRange }) {
    this.metric = metric;
    this.visibleRange = visibleRange;
    this.unit = unit;
    this.element = document.createElement('div');
    this.element.className = 'chart';
    this.element.dataset.metric = metric;
    const title = document.createElement('h3');
    title.textContent = unit ? `${metric} (${unit})` : metric;
    this.element.append(title);
    container.append(this.element);

    const color = kColors[colorIndex % kColors.length];
    const band = `${color}33`;
    this.data = [[], [], [], []];  // seconds, mean, min, max
    this.plot = new uPlot(
      {
        width: Math.max(300, container.clientWidth - 10),
        height: 220,
        series: [
          {},
          { label: metric, stroke: color, width: 2, spanGaps: false },
          { label: 'min', stroke: band, fill: band, width: 1 },
          { label: 'max', stroke: band, width: 1 },
        ],
        bands: [{ series: [3, 2], fill: band }],
        axes: [{}, { label: unit || '' }],
        scales: {
          x: {
            time: true,
            range: () => {
              const { from, to } = this.visibleRange();
              return [from / 1000, to / 1000];
            },
          },
        },
        legend: { live: true },
      },
      this.data,
      this.element,
    );
  }

  // points: [[time_ms, min, max, mean, count], ...]
  setPoints(points, rollup) {
    this.rollup = rollup;
    this.data = [
      points.map((p) => p[0] / 1000),
      points.map((p) => p[3]),
      points.map((p) => (rollup ? p[1] : null)),
      points.map((p) => (rollup ? p[2] : null)),
    ];
    this.plot.setData(this.data);
    this.#publishState();
  }

  // Appends one raw sample (live mode) and drops what is older than windowMs.
  append(timeMs, value, windowMs) {
    const [xs, means, mins, maxs] = this.data;
    xs.push(timeMs / 1000);
    means.push(value);
    mins.push(null);
    maxs.push(null);
    const oldest = (timeMs - windowMs) / 1000;
    while (xs.length > 0 && xs[0] < oldest) {
      xs.shift();
      means.shift();
      mins.shift();
      maxs.shift();
    }
    this.plot.setData(this.data);
    this.#publishState();
  }

  // What the chart shows, as attributes: for people inspecting the page and
  // for the browser test, which watches a live chart grow.
  #publishState() {
    const xs = this.data[0];
    this.element.dataset.points = String(xs.length);
    this.element.dataset.lastTimeMs = xs.length ? String(Math.round(xs[xs.length - 1] * 1000)) : '';
    const { min, max } = this.plot.scales.x;
    this.element.dataset.spanMs = min != null && max != null ? String(Math.round((max - min) * 1000)) : '';
  }

  pointCount() {
    return this.data[0].length;
  }

  resize(width) {
    this.plot.setSize({ width: Math.max(300, width - 10), height: 220 });
  }

  destroy() {
    this.plot.destroy();
    this.element.remove();
  }
}
