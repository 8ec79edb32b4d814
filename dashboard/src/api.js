// The gateway's HTTP API (docs/gateway.md) and its live WebSocket feed.

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

export function fetchDevices() {
  return getJson('/api/devices');
}

export function fetchAlerts() {
  return getJson('/api/alerts');
}

// points: [[time_ms, min, max, mean, count], ...], oldest first.
export function fetchHistory(device, metric, fromMs, toMs, maxPoints) {
  const query = new URLSearchParams({ from: String(fromMs), to: String(toMs), points: String(maxPoints) });
  const path = `/api/devices/${encodeURIComponent(device)}/metrics/${encodeURIComponent(metric)}/history?${query}`;
  return getJson(path);
}

// Opens /api/live and keeps it open: reconnects with a growing delay (1 s to
// 30 s) and calls onOpen again after each reconnect, so the caller can
// reload what it may have missed.
export function connectLive({ onMessage, onState, onOpen }) {
  let delayMs = 1000;
  const open = () => {
    onState('connecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/api/live`);
    socket.addEventListener('open', () => {
      delayMs = 1000;
      onState('open');
      onOpen();
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        console.warn('mote: ignoring a live message that is not JSON', event.data);
        return;
      }
      onMessage(message);
    });
    socket.addEventListener('close', () => {
      onState('closed');
      setTimeout(open, delayMs);
      delayMs = Math.min(delayMs * 2, 30000);
    });
  };
  open();
}
