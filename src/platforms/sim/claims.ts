/**
 * Turns a simulated TEE's body into normalized claims. Every claim set states that it is simulated.
 *
 * @module
 */
import { toHex } from '../../core/bytes.js'
import type { Claims } from '../../core/types.js'
import { type SimBody, simBodyJson } from './format.js'

/**
 * Builds the claims of simulated evidence: `measurement` is MRTD, and `raw` contains every body
 * member (bytes as hex) and `simulated: true`.
 */
export function simClaims(body: SimBody): Claims {
  return {
    platform: 'sim',
    measurement: toHex(body.mrTd),
    reportData: toHex(body.reportData),
    debug: body.debug,
    raw: { simulated: true, ...simBodyJson(body) },
  }
}
