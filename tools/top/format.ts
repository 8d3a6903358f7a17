// Text for numbers, sizes, durations and sparklines: fixed, short widths so columns line up.

const SI = ['', 'k', 'M', 'G', 'T'];

// 999, 1.2k, 12k, 123k, 1.2M: at most 4 characters for any count below 10^15.
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const rounded = Math.round(value);
  if (Math.abs(rounded) < 1000) return String(rounded);
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 999.5 && unit < SI.length - 1) {
    scaled /= 1000;
    unit++;
  }
  return `${Math.abs(scaled) < 9.95 ? scaled.toFixed(1) : Math.round(scaled)}${SI[unit]}`;
}

// A rate with one decimal below 10 (0.4, 12, 3.1k); exactly zero prints as 0.
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 9.95) return perSecond.toFixed(1);
  return formatCount(perSecond);
}

const BYTE_UNITS = ['B', 'K', 'M', 'G', 'T'];

// 512B, 1.5K, 23K, 4.0M (binary units).
export function formatBytes(bytes: number): string {
  let scaled = bytes;
  let unit = 0;
  while (scaled >= 1023.5 && unit < BYTE_UNITS.length - 1) {
    scaled /= 1024;
    unit++;
  }
  const digits = unit === 0 || scaled >= 9.95 ? Math.round(scaled).toString() : scaled.toFixed(1);
  return `${digits}${BYTE_UNITS[unit]}`;
}

// 850ms, 12s, 4m05s, 3h12m, 2d04h.
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}

// HH:MM:SS, growing to days: for "up" times.
export function formatUptime(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const clock = [Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60]
    .map((n) => String(n).padStart(2, '0')).join(':');
  const days = Math.floor(seconds / 86400);
  return days > 0 ? `${days}d ${clock}` : clock;
}

// Local wall-clock time of an event: 14:03:27.512.
export function formatClock(tMs: number): string {
  const date = new Date(tMs);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

const BARS = '▁▂▃▄▅▆▇█';
const BARS_ASCII = '_.-=+*#@';

// One character per value, scaled to the largest; all zeros print as the lowest bar.
export function sparkline(values: readonly number[], isAscii = false): string {
  const bars = isAscii ? BARS_ASCII : BARS;
  const max = Math.max(0, ...values);
  if (max === 0) return bars[0]!.repeat(values.length);
  return values.map((v) => bars[Math.min(bars.length - 1, Math.ceil((v / max) * (bars.length - 1)))]!).join('');
}

// Pads or cuts to exactly `width` characters; a cut text ends in '~' (ASCII: any terminal).
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '~' : `${text.slice(0, width - 1)}~`;
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}
