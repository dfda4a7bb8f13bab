// A one-line progress bar with loss, epoch rate and ETA, redrawn in place on a terminal only.
export class Progress {
  readonly enabled: boolean;
  private epochs: number;
  private batches: number;
  private started = performance.now();
  private firstEpoch: number | undefined;
  private lastDraw = 0;

  constructor(opts: { enabled: boolean; epochs: number; batches: number }) {
    this.enabled = opts.enabled;
    this.epochs = opts.epochs;
    this.batches = opts.batches;
  }

  batch(epoch: number, batch: number, loss: number): void {
    if (!this.enabled) return;
    this.firstEpoch ??= epoch;
    const now = performance.now();
    if (now - this.lastDraw < 100 && batch !== this.batches) return;
    this.lastDraw = now;
    const done = (epoch - 1 + batch / this.batches) / this.epochs;
    const width = 24;
    const filled = Math.round(done * width);
    const elapsed = (now - this.started) / 1000;
    const fromStart = epoch - this.firstEpoch + batch / this.batches;
    const rate = fromStart > 0 ? fromStart / elapsed : 0;
    const eta = rate > 0 ? (this.epochs - (epoch - 1 + batch / this.batches)) / rate : NaN;
    const line = `[${"#".repeat(filled)}${".".repeat(width - filled)}] epoch ${epoch}/${this.epochs}  loss ${loss.toExponential(3)}  ${rate.toFixed(2)} epochs/s  ETA ${fmt(eta)}`;
    process.stdout.write(`\r${line.padEnd(100)}`);
  }


  clear(): void {
    if (this.enabled) process.stdout.write(`\r${" ".repeat(100)}\r`);
  }
}

function fmt(s: number): string {
  if (!Number.isFinite(s)) return "--:--";
  const m = Math.floor(s / 60);
  const sec = Math.round(s % 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m` : `${m}:${String(sec).padStart(2, "0")}`;
}
