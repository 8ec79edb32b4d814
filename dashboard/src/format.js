export function formatValue(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const digits = Math.abs(value) >= 100 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export function formatAgo(timeMs, nowMs = Date.now()) {
  const seconds = Math.max(0, Math.round((nowMs - timeMs) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

export function formatTime(timeMs) {
  return new Date(timeMs).toLocaleString();
}

// A datetime-local input's value (local time) in ms since the epoch; NaN when empty.
export function parseLocalInput(value) {
  return value ? new Date(value).getTime() : Number.NaN;
}
