/**
 * Learning-rate schedules as pure functions of (epoch, totalEpochs).
 *
 * `epoch` is the 0-based index of the epoch about to run, i.e. the number of completed epochs,
 * which is PyTorch's `scheduler.last_epoch` when `scheduler.step()` is called once after each
 * epoch (as the reference DSR trainers do). The value returned is the rate used for that whole
 * epoch. A pure function (rather than a stateful scheduler object) means resuming a run needs no
 * scheduler state: the epoch counter is enough.
 */

export type ScheduleConfig =
  | { kind: "constant"; lr: number }
  /**
   * lr(e) = lr · (lrEnd/lr)^(e/E): reaches lrEnd at e = E. Same as PyTorch ExponentialLR with
   * gamma = (lrEnd/lr)^(1/E) (ALRNN: 1e-3 → 1e-5; GTF: 1e-3 → 1e-6).
   */
  | { kind: "exponential"; lr: number; lrEnd: number }
  /**
   * lr(e) = lr · gamma^(number of milestones <= e), as PyTorch MultiStepLR (duplicate milestones
   * count twice there, and here). `unit: "fraction"` milestones are fractions of totalEpochs,
   * resolved as Python's int(f·E) (dendPLRNN: [0.1, 0.8, 0.9], gamma 0.1).
   */
  | { kind: "multistep"; lr: number; milestones: number[]; unit: "epoch" | "fraction"; gamma: number };

export type ScheduleKind = ScheduleConfig["kind"];

/** Throws a RangeError describing the first invalid field; returns the config unchanged. */
export function validateSchedule(cfg: ScheduleConfig): ScheduleConfig {
  const positive = (name: string, v: unknown) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`schedule ${cfg.kind}: ${name} must be a positive finite number, got ${String(v)}`);
    }
  };
  positive("lr", cfg.lr);
  switch (cfg.kind) {
    case "constant":
      break;
    case "exponential":
      positive("lrEnd", cfg.lrEnd);
      break;
    case "multistep": {
      positive("gamma", cfg.gamma);
      if (cfg.unit !== "epoch" && cfg.unit !== "fraction") {
        throw new RangeError(`schedule multistep: unit must be 'epoch' or 'fraction', got ${String(cfg.unit)}`);
      }
      if (!Array.isArray(cfg.milestones)) throw new RangeError("schedule multistep: milestones must be an array");
      for (const m of cfg.milestones) {
        const ok =
          cfg.unit === "epoch"
            ? Number.isSafeInteger(m) && m >= 0
            : typeof m === "number" && Number.isFinite(m) && m >= 0 && m <= 1;
        if (!ok) {
          const want = cfg.unit === "epoch" ? "non-negative integers" : "fractions in [0, 1]";
          throw new RangeError(`schedule multistep: milestones must be ${want}, got ${String(m)}`);
        }
      }
      break;
    }
    default: {
      const never: never = cfg;
      throw new RangeError(`unknown schedule kind '${(never as { kind: string }).kind}'`);
    }
  }
  return cfg;
}

function checkEpochs(epoch: number, totalEpochs: number): void {
  if (!Number.isSafeInteger(totalEpochs) || totalEpochs < 1) {
    throw new RangeError(`totalEpochs must be a positive integer, got ${totalEpochs}`);
  }
  if (!Number.isFinite(epoch) || epoch < 0) throw new RangeError(`epoch must be >= 0, got ${epoch}`);
}

/** Milestones as absolute epochs (fractions resolved against totalEpochs), sorted ascending. */
export function resolveMilestones(
  cfg: Extract<ScheduleConfig, { kind: "multistep" }>,
  totalEpochs: number,
): number[] {
  // Math.trunc(f * E) is the same double arithmetic as Python's int(f * e) in the reference code.
  const ms = cfg.unit === "fraction" ? cfg.milestones.map((f) => Math.trunc(f * totalEpochs)) : [...cfg.milestones];
  return ms.sort((a, b) => a - b);
}

/** The learning rate for (0-based) `epoch` of a run of `totalEpochs` epochs. */
export function learningRate(cfg: ScheduleConfig, epoch: number, totalEpochs: number): number {
  checkEpochs(epoch, totalEpochs);
  switch (cfg.kind) {
    case "constant":
      return cfg.lr;
    case "exponential":
      return cfg.lr * Math.pow(cfg.lrEnd / cfg.lr, epoch / totalEpochs);
    case "multistep": {
      let passed = 0;
      for (const m of resolveMilestones(cfg, totalEpochs)) if (m <= epoch) passed++;
      return cfg.lr * Math.pow(cfg.gamma, passed);
    }
    default: {
      const never: never = cfg;
      throw new RangeError(`unknown schedule kind '${(never as { kind: string }).kind}'`);
    }
  }
}

/** One-line description for run logs, e.g. "multistep lr 0.001, ×0.1 at epochs [100, 800, 900]". */
export function describeSchedule(cfg: ScheduleConfig, totalEpochs?: number): string {
  switch (cfg.kind) {
    case "constant":
      return `constant lr ${cfg.lr}`;
    case "exponential": {
      const over = totalEpochs === undefined ? "over the run" : `over ${totalEpochs} epochs`;
      const gamma =
        totalEpochs === undefined ? "" : ` (×${Math.pow(cfg.lrEnd / cfg.lr, 1 / totalEpochs).toPrecision(6)} per epoch)`;
      return `exponential lr ${cfg.lr} → ${cfg.lrEnd} ${over}${gamma}`;
    }
    case "multistep": {
      const given =
        cfg.unit === "fraction" ? `fractions [${cfg.milestones.join(", ")}] of the run` : `epochs [${cfg.milestones.join(", ")}]`;
      const resolved =
        cfg.unit === "fraction" && totalEpochs !== undefined
          ? ` = epochs [${resolveMilestones(cfg, totalEpochs).join(", ")}]`
          : "";
      return `multistep lr ${cfg.lr}, ×${cfg.gamma} at ${given}${resolved}`;
    }
    default: {
      const never: never = cfg;
      return `unknown schedule '${(never as { kind: string }).kind}'`;
    }
  }
}
