/**
 * Crash injection as an option: code with crash-safety claims (jobs, the ceremony engine) calls
 * `faults.at(point)` at its step boundaries. Production passes {@link noFaults}; only the
 * test-support wrapper of the CLI passes one that kills the process there, and the packed
 * package excludes it (docs/DECISIONS.md#d53). No production code reads an environment variable
 * for this.
 * @module
 */

/** Named points where a crash test may stop the process. */
export interface Faults {
  /** Called on reaching `point` (e.g. `rewrap:before-rename`, `before:import-shares`). */
  at(point: string): void;
}

/** The default: no fault anywhere. */
export const noFaults: Faults = { at() {} };
