/** A progress bar on stderr, only on a TTY and only for inputs large enough to wait for. */
const MIN_BYTES = 8 * 1024 * 1024;

export function progressBar(
  label: string,
  total: number | undefined,
): ((done: number) => void) & { end(): void } {
  const tty = process.stderr.isTTY && total !== undefined && total >= MIN_BYTES;
  const start = performance.now();
  let last = 0;
  const draw = (done: number) => {
    const secs = (performance.now() - start) / 1000;
    const pct = Math.min(100, Math.floor((done / total!) * 100));
    const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.');
    const rate = secs > 0 ? `${(done / secs / 1e6).toFixed(0)} MB/s` : '';
    process.stderr.write(
      `\r${label} [${bar}] ${String(pct).padStart(3)}% ${mib(done)}/${mib(total!)} ${rate}  `,
    );
  };
  const update = (done: number) => {
    if (!tty) return;
    const now = performance.now();
    if (now - last < 100 && done < total!) return;
    last = now;
    draw(done);
  };
  return Object.assign(update, {
    end() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  });
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
