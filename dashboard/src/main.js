// The mote dashboard: device list with online state and latest readings,
// live charts fed by /api/live, history over a chosen range, and alerts.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { connectLive, fetchAlerts, fetchDevices, fetchHistory } from './api.js';
import { MetricChart } from './charts.js';
import { formatAgo, formatTime, formatValue, parseLocalInput } from './format.js';

const kLiveWindowMs = 15 * 60 * 1000;
const kMaxPoints = 900;

const state = {
  devices: new Map(),  // name -> device object from the API
  alerts: new Map(),   // id -> alert
  selected: null,      // device name
  range: { live: true, spanMs: kLiveWindowMs },
  charts: new Map(),   // metric -> MetricChart
  historyRequest: 0,   // ignores answers to superseded history requests
};

const $ = (id) => document.getElementById(id);

function renderDevices() {
  const list = $('devices');
  const names = [...state.devices.keys()].sort();
  $('no-devices').hidden = names.length > 0;
  list.replaceChildren(...names.map((name) => deviceCard(state.devices.get(name))));
}

function deviceCard(device) {
  const item = document.createElement('li');
  item.className = 'device';
  item.dataset.device = device.name;
  item.dataset.online = String(Boolean(device.online));
  item.setAttribute('aria-selected', String(device.name === state.selected));
  item.tabIndex = 0;

  const name = document.createElement('div');
  name.className = 'device-name';
  const dot = document.createElement('span');
  dot.className = 'state';
  dot.title = device.online ? 'online' : 'offline';
  name.append(dot, document.createTextNode(device.name));

  const seen = document.createElement('div');
  seen.className = 'device-seen';
  seen.dataset.lastSeen = String(device.last_seen_ms);
  seen.textContent = `${device.online ? 'online' : 'offline'} · last seen ${formatAgo(device.last_seen_ms)}`;

  const readings = document.createElement('div');
  readings.className = 'readings';
  for (const metric of device.metrics ?? []) {
    const reading = document.createElement('span');
    reading.className = 'reading';
    reading.dataset.metric = metric.name;
    const value = document.createElement('span');
    value.className = 'reading-value';
    value.textContent = formatValue(metric.last_value, metric.unit);
    reading.append(document.createTextNode(`${metric.name} `), value);
    readings.append(reading);
  }
  item.append(name, seen, readings);
  const select = () => selectDevice(device.name);
  item.addEventListener('click', select);
  item.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') select();
  });
  return item;
}

function renderAlerts() {
  const alerts = [...state.alerts.values()].sort((a, b) => b.since_ms - a.since_ms);
  $('no-alerts').hidden = alerts.length > 0;
  $('alerts').replaceChildren(
    ...alerts.map((alert) => {
      const item = document.createElement('li');
      item.className = 'alert';
      item.dataset.kind = alert.kind;
      item.dataset.device = alert.device;
      const time = document.createElement('time');
      time.textContent = `since ${formatTime(alert.since_ms)}`;
      item.append(document.createTextNode(alert.message), time);
      return item;
    }),
  );
}

// Keeps "last seen" texts current between updates.
function refreshAges() {
  for (const element of document.querySelectorAll('.device-seen')) {
    const device = state.devices.get(element.closest('.device').dataset.device);
    if (!device) continue;
    element.textContent = `${device.online ? 'online' : 'offline'} · last seen ${formatAgo(device.last_seen_ms)}`;
  }
}

function selectDevice(name) {
  state.selected = name;
  for (const card of document.querySelectorAll('.device')) {
    card.setAttribute('aria-selected', String(card.dataset.device === name));
  }
  $('detail-title').textContent = name;
  rebuildCharts();
}

function rebuildCharts() {
  for (const chart of state.charts.values()) chart.destroy();
  state.charts.clear();
  const device = state.devices.get(state.selected);
  if (!device) return;
  const container = $('charts');
  (device.metrics ?? []).forEach((metric, index) => {
    state.charts.set(metric.name, new MetricChart(container, { metric: metric.name, unit: metric.unit, colorIndex: index, visibleRange }));
  });
  loadHistory();
}

function currentRange() {
  if (state.range.live) {
    const now = Date.now();
    return { from: now - kLiveWindowMs, to: now + 60 * 1000 };
  }
  if (state.range.spanMs) {
    const now = Date.now();
    return { from: now - state.range.spanMs, to: now };
  }
  return { from: state.range.from, to: state.range.to };
}

// What the charts' x axes span: the chosen range; live, the last 15 minutes
// up to now (currentRange() asks the store for a minute past now, for clocks
// that run ahead).
function visibleRange() {
  if (state.range.live) {
    const now = Date.now();
    return { from: now - kLiveWindowMs, to: now };
  }
  return currentRange();
}

async function loadHistory() {
  const device = state.selected;
  if (!device) return;
  const request = ++state.historyRequest;
  const { from, to } = currentRange();
  const resolutions = new Set();
  await Promise.all(
    [...state.charts.entries()].map(async ([metric, chart]) => {
      try {
        const history = await fetchHistory(device, metric, from, to, kMaxPoints);
        if (request !== state.historyRequest) return;
        chart.setPoints(history.points, history.resolution !== 'raw');
        resolutions.add(history.resolution);
      } catch (error) {
        console.error('mote: history', error);
      }
    }),
  );
  if (request !== state.historyRequest) return;
  const range = `${formatTime(from)} – ${state.range.live ? 'now (live)' : formatTime(to)}`;
  $('resolution').textContent = resolutions.size ? `${range} · resolution: ${[...resolutions].join(', ')}` : range;
}

function onSample(sample) {
  let device = state.devices.get(sample.device);
  if (!device) {
    // A "device" message announces new devices first; one that came before
    // this page's feed opened was missed: load the list again (once a second
    // at most, however many samples arrive meanwhile).
    reloadSoon();
    return;
  }
  device.last_seen_ms = Math.max(device.last_seen_ms ?? 0, sample.time_ms);
  let metric = device.metrics.find((m) => m.name === sample.metric);
  const isNewMetric = !metric;
  if (isNewMetric) {
    metric = { name: sample.metric, unit: sample.unit ?? '', last_time_ms: 0, last_value: null };
    device.metrics.push(metric);
    device.metrics.sort((a, b) => a.name.localeCompare(b.name));
  }
  if (sample.time_ms >= metric.last_time_ms) {
    metric.last_time_ms = sample.time_ms;
    metric.last_value = sample.value;
  }
  if (sample.unit) metric.unit = sample.unit;

  const card = document.querySelector(`.device[data-device="${CSS.escape(sample.device)}"]`);
  const value = card?.querySelector(`.reading[data-metric="${CSS.escape(sample.metric)}"] .reading-value`);
  if (value && !isNewMetric) {
    value.textContent = formatValue(metric.last_value, metric.unit);
  } else {
    renderDevices();
  }
  if (sample.device !== state.selected) return;
  if (isNewMetric) {
    rebuildCharts();
  } else if (state.range.live) {
    state.charts.get(sample.metric)?.append(sample.time_ms, sample.value, kLiveWindowMs);
  }
}

function onLiveMessage(message) {
  switch (message.type) {
    case 'sample':
      onSample(message);
      break;
    case 'device':
      state.devices.set(message.device.name, message.device);
      renderDevices();
      if (message.device.name === state.selected && state.charts.size !== (message.device.metrics ?? []).length) {
        rebuildCharts();
      }
      break;
    case 'alert':
      if (message.active) state.alerts.set(message.alert.id, message.alert);
      else state.alerts.delete(message.alert.id);
      renderAlerts();
      break;
    default:
      break;  // newer gateways may send more kinds
  }
}

let reloadTimer = null;
function reloadSoon() {
  if (reloadTimer !== null) return;
  reloadTimer = setTimeout(() => {
    reloadTimer = null;
    reload();
  }, 1000);
}

// (Re)loads everything: at start and after the live feed reconnects.
async function reload() {
  try {
    const [{ devices }, { alerts }] = await Promise.all([fetchDevices(), fetchAlerts()]);
    state.devices = new Map(devices.map((device) => [device.name, device]));
    state.alerts = new Map(alerts.map((alert) => [alert.id, alert]));
    renderDevices();
    renderAlerts();
    if (!state.selected && devices.length > 0) {
      selectDevice([...state.devices.keys()].sort()[0]);
    } else if (state.selected) {
      rebuildCharts();
    }
  } catch (error) {
    console.error('mote: reload', error);
  }
}

function setupRangeButtons() {
  for (const button of document.querySelectorAll('.range button')) {
    button.addEventListener('click', () => {
      const range = button.dataset.range;
      if (range === 'live') {
        state.range = { live: true, spanMs: kLiveWindowMs };
      } else if (range === 'custom') {
        const from = parseLocalInput($('range-from').value);
        const to = parseLocalInput($('range-to').value);
        if (!(from < to)) {
          $('resolution').textContent = 'Pick a "from" before the "to".';
          return;
        }
        state.range = { live: false, from, to };
      } else {
        state.range = { live: false, spanMs: Number(range) };
      }
      for (const other of document.querySelectorAll('.range button')) {
        other.setAttribute('aria-pressed', String(other === button));
      }
      loadHistory();
    });
  }
}

function setupResize() {
  let pending = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      const width = $('charts').clientWidth;
      for (const chart of state.charts.values()) chart.resize(width);
    });
  });
}

setupRangeButtons();
setupResize();
setInterval(refreshAges, 1000);
connectLive({
  onMessage: onLiveMessage,
  onOpen: reload,
  onState: (connection) => {
    const element = $('connection');
    element.dataset.state = connection;
    element.textContent = { connecting: 'connecting…', open: 'live', closed: 'disconnected' }[connection];
  },
});
