// "did you mean" suggestions by edit distance.

/** Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring letters ('alhpa' → 'alpha' is one edit), ignoring case. */
export function editDistance(a: string, b: string, max = Infinity): number {
  // Three rolling rows instead of an m x n table; with `max`, any result above it is max + 1
  // (checking a file with thousands of unknown names compares each with every declared name).
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > max) return max + 1;
  const A = a.toLowerCase();
  const B = b.toLowerCase();
  let prev2: number[] = new Array<number>(n + 1).fill(0);
  let prev: number[] = Array.from({ length: n + 1 }, (_, j) => j);
  let cur: number[] = new Array<number>(n + 1).fill(0);
  let prevMin = 0;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = A[i - 1] === B[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && A[i - 1] === B[j - 2] && A[i - 2] === B[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    // Later cells come from this row or (a swap) the previous one plus 1.
    if (rowMin > max && prevMin + 1 > max) return max + 1;
    prevMin = rowMin;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/** Names other tools and papers use for things rnnc spells differently. */
const SYNONYMS: Record<string, string[]> = {
  learning_rate: ["lr"], lrate: ["lr"], optimiser: ["optimizer"], optim: ["optimizer"],
  n_epochs: ["epochs"], num_epochs: ["epochs"], max_epochs: ["epochs"],
  batchsize: ["batch_size"], batch: ["batch_size"], sequence_length: ["seq_len"], seq_length: ["seq_len"],
  xavier: ["glorot"], xavier_uniform: ["glorot"], glorot_uniform: ["glorot"], xavier_normal: ["glorot_normal"],
  he: ["kaiming"], he_uniform: ["kaiming"], he_normal: ["kaiming"], kaiming_uniform: ["kaiming"], kaiming_normal: ["kaiming"],
  randn: ["normal"], gaussian: ["normal"], zero: ["zeros"], one: ["ones"], eye: ["identity"],
  no_self_connections: ["no_autapses"], zero_diagonal: ["offdiag"], nonnegative: ["positive"], nonneg: ["positive"],
  fixed: ["frozen"], untrainable: ["frozen"], std: ["sigma"], logistic: ["sigmoid"],
  state: ["latent"], states: ["latent"], parameters: ["params"], observation: ["observe"], output: ["observe"], training: ["train"],
  roessler: ["rossler"], lorenz: ["lorenz63"], hindmarsh_rose: ["bursting_neuron"],
  mse_loss: ["mse"], l1: ["mae"], l2_loss: ["mse"], teacher_forcing: ["forcing"], tf: ["forcing"],
  dstsp_bins: ["bins"], dsp: ["dstsp"], klx: ["dstsp"], hellinger: ["dh"], prediction_error: ["pe"],
};

/**
 * Candidates compared per stage (parse, check) before suggestions stop: a generated file with
 * thousands of unknown names would otherwise compare each with every declared name (hours).
 */
const SUGGESTION_BUDGET = 200_000;
let budget = SUGGESTION_BUDGET;

/** Called at the start of each stage, so suggestions never depend on earlier compiles. */
export function resetSuggestionBudget(): void {
  budget = SUGGESTION_BUDGET;
}

/** The closest candidate within a distance that scales with the word's length, if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (budget <= 0) return undefined;
  const cands = [...candidates].filter((c) => c !== word);
  // hasOwn: a name like `constructor` must not find Object.prototype's.
  const lw0 = word.toLowerCase();
  for (const s of Object.hasOwn(SYNONYMS, lw0) ? SYNONYMS[lw0]! : []) if (cands.includes(s)) return s;
  budget -= cands.length;
  if (budget < 0) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  // One-letter names (dims such as M, N, K) are all one edit apart: suggest only a change of case.
  const limit = word.length <= 1 ? 0 : Math.max(1, Math.floor(word.length / 3) + (word.length > 5 ? 1 : 0));
  for (const c of cands) {
    // The length difference bounds the distance from below, so skipping is exact; and the table is
    // length x length: a generated 100k-character name must not take minutes (or all memory).
    if (Math.abs(c.length - word.length) > limit || word.length > 200) continue;
    const d = editDistance(word, c, limit);
    if (d < bestD || (d === bestD && best !== undefined && c < best)) {
      best = c;
      bestD = d;
    }
  }
  if (best !== undefined && bestD <= limit) return best;
  // A clipped or extended spelling: 'diagonal' for 'diag', 'optim' for 'optimizer'.
  const lw = word.toLowerCase();
  const pre = cands.filter((c) => {
    const lc = c.toLowerCase();
    const [short, long] = lc.length <= lw.length ? [lc, lw] : [lw, lc];
    return short.length >= 3 && short.length * 2 >= long.length && long.startsWith(short);
  });
  return pre.sort((a, b) => Math.abs(a.length - word.length) - Math.abs(b.length - word.length) || (a < b ? -1 : 1))[0];
}

export function didYouMean(word: string, candidates: Iterable<string>): string[] {
  const c = closest(word, candidates);
  return c ? [`did you mean '${c}'?`] : [];
}
