/**
 * The random-number source the metrics need (the Monte-Carlo form of D_stsp).
 * The project's seeded PRNG implements this; tests may pass a scripted one.
 */
export interface Rng {
  /** uniform on [0, 1) */
  uniform(): number;
  /** standard normal N(0, 1) */
  normal(): number;
}
