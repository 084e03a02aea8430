/**
 * Turns a simulated TEE's body into normalized claims. Every claim set states that it is simulated.
 *
 * @module
 */
import { toHex } from '../../core/bytes.js'
import type { Claims } from '../../core/types.js'
import type { SimBody } from './format.js'

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
    raw: {
      simulated: true,
      issuedAt: body.issuedAt,
      keyId: body.keyId,
      mrTd: toHex(body.mrTd),
      mrConfigId: toHex(body.mrConfigId),
      mrOwner: toHex(body.mrOwner),
      mrOwnerConfig: toHex(body.mrOwnerConfig),
      rtmr: body.rtmr.map(toHex),
      reportData: toHex(body.reportData),
      tdAttributes: toHex(body.tdAttributes),
      xfam: toHex(body.xfam),
      debug: body.debug,
    },
  }
}
