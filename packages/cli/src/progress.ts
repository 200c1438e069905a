/** @module Progress lines on stderr: count, rate and ETA, redrawn in place on a terminal, throttled in logs. */
import type { Progress } from '@autolabel/core';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Bytes for people: 951 B, 12.3 MB, 1.20 GB (SI units, as download tools print them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatProgress(progress: Progress, unit: string): string {
  if (progress.unit === 'bytes') {
    const done = formatBytes(progress.done);
    const count =
      progress.total === null
        ? done
        : `${done}/${formatBytes(progress.total)} (${progress.total === 0 ? 100 : ((100 * progress.done) / progress.total).toFixed(1)}%)`;
    const eta = progress.etaSeconds === null ? '' : `, ETA ${formatDuration(progress.etaSeconds)}`;
    return `${progress.phase}: ${count}, ${formatBytes(progress.rate)}/s${eta}`;
  }
  const count =
    progress.total === null
      ? `${progress.done}`
      : `${progress.done}/${progress.total} (${progress.total === 0 ? 100 : ((100 * progress.done) / progress.total).toFixed(1)}%)`;
  const rate = `${progress.rate.toFixed(progress.rate < 10 ? 1 : 0)} ${progress.unit ?? unit}/s`;
  const eta = progress.etaSeconds === null ? '' : `, ETA ${formatDuration(progress.etaSeconds)}`;
  const note = progress.note === undefined ? '' : `; ${progress.note}`;
  return `${progress.phase}: ${count}, ${rate}${eta}${note}`;
}

/** Returns a listener that draws progress on `stream`, plus `done` to finish the line. */
export function progressPrinter(
  stream: NodeJS.WriteStream,
  unit: string,
  enabled: boolean,
): { onProgress: (progress: Progress) => void; done: () => void } {
  const tty = stream.isTTY === true;
  const every = tty ? 100 : 5000;
  let last = 0;
  let drawn = false;
  let latest: Progress | undefined;
  const draw = (progress: Progress): void => {
    const line = formatProgress(progress, unit);
    if (tty) stream.write(`\r${line}\u001b[K`);
    else stream.write(`${line}\n`);
    drawn = true;
  };
  return {
    onProgress(progress) {
      // A new phase (download, then embed) starts on a line of its own; the last one keeps its final state.
      if (enabled && tty && drawn && latest && latest.phase !== progress.phase) {
        draw(latest);
        stream.write('\n');
        drawn = false;
      }
      latest = progress;
      if (!enabled) return;
      const now = Date.now();
      if (now - last < every && progress.done !== progress.total) return;
      last = now;
      draw(progress);
    },
    done() {
      if (!enabled) return;
      if (latest && (tty || !drawn || latest.done !== latest.total)) draw(latest);
      if (tty && drawn) stream.write('\n');
    },
  };
}
