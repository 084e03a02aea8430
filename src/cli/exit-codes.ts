/**
 * Exit codes of the confide CLI, the same for every command that judges evidence.
 *
 * @module
 */
export const EXIT = {
  /** The evidence is valid. */
  VALID: 0,
  /** The evidence was judged and found invalid. */
  INVALID: 1,
  /** Usage error, or an input that could not be read or decoded. */
  USAGE: 2,
  /** The evidence could not be judged: collateral is missing or unavailable. */
  INDETERMINATE: 3,
} as const
