/**
 * The minimal random-number source the data layer needs.
 *
 * Generators never create their own randomness: callers pass a seeded generator (the project's
 * PRNG in src/runtime/train/prng.ts implements this interface), so a run is reproducible from
 * its seed alone.
 */
export interface Rng {
  /** A uniform draw from [0, 1). */
  uniform(): number;
  /** A standard normal draw (mean 0, std 1). */
  normal(): number;
}
