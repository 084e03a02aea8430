/**
 * The simulated TEE as an attester, for development and tests on machines without a TEE. Its
 * evidence proves nothing about hardware: `confide verify` marks it simulated, and appraisal
 * rejects it unless a policy allows simulated platforms.
 *
 * @module
 */
import { simEvidence } from '../platforms/sim/attester.js'
import type { SimKey } from '../platforms/sim/dev-key.js'
import { type Attester, padReportData } from './attester.js'

export interface SimAttesterOptions {
  /** The 48-byte launch measurement (default: SHA-384 of the UTF-8 text `confide-sim`). */
  readonly mrTd?: Uint8Array
  /** Up to four 48-byte runtime measurement registers (default: zeros). */
  readonly rtmr?: readonly Uint8Array[]
  /** Report a TD in debug mode (default false). */
  readonly debug?: boolean
  /** Clock for the evidence's issue time (default: the system clock). */
  readonly now?: () => Date
}

/** Creates an attester that signs simulated evidence with `key`. */
export function createSimAttester(key: SimKey, options: SimAttesterOptions = {}): Attester {
  return {
    name: 'sim',
    platform: 'sim',
    attest: async (reportData) =>
      simEvidence(key, {
        reportData: padReportData(reportData),
        ...(options.mrTd === undefined ? {} : { mrTd: options.mrTd }),
        ...(options.rtmr === undefined ? {} : { rtmr: options.rtmr }),
        ...(options.debug === undefined ? {} : { debug: options.debug }),
        at: options.now?.() ?? new Date(),
      }),
  }
}
