/**
 * COSE_Key structures of key type EC2 (RFC 9052 §7, RFC 9053 §7.1), as an Arm CCA realm token
 * carries its attestation key. Pure: no crypto, no I/O.
 *
 * @module
 */
import { ParseError } from '../../core/errors.js'
import type { NamedCurve } from '../../crypto/port.js'
import { decodeStrictCbor } from './cbor.js'

/** COSE_Key labels and values (RFC 9052 §7.1, RFC 9053 §7.1). */
export const COSE_KEY_KTY = 1
export const COSE_KEY_CRV = -1
export const COSE_KEY_X = -2
export const COSE_KEY_Y = -3
export const COSE_KTY_EC2 = 2

/** The EC2 curves of RFC 9053 by their COSE values, with their coordinate sizes. */
export const COSE_EC2_CURVES: ReadonlyMap<number, { curve: NamedCurve; size: number }> = new Map([
  [1, { curve: 'P-256', size: 32 }],
  [2, { curve: 'P-384', size: 48 }],
  [3, { curve: 'P-521', size: 66 }],
])

/** An EC public key as its curve and its uncompressed coordinates. */
export interface EcPublicPoint {
  readonly curve: NamedCurve
  /** x‖y, each coordinate padded to the curve size. */
  readonly point: Uint8Array
}

/**
 * Decodes a COSE_Key of type EC2 with its x and y coordinates. Other parameters (kid, alg,
 * key_ops) are allowed and ignored; a compressed point (y as a boolean) is rejected.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` or `ERR_PARSE_TRUNCATED`
 */
export function parseCoseEc2Key(bytes: Uint8Array, structure: string): EcPublicPoint {
  const fail = (message: string) =>
    new ParseError('ERR_PARSE_MALFORMED', `${structure}: ${message}`, { structure })
  const key = decodeStrictCbor(bytes, structure)
  if (!(key instanceof Map)) throw fail('the COSE_Key is not a map')
  if (key.get(COSE_KEY_KTY) !== COSE_KTY_EC2) throw fail('the COSE_Key type is not EC2 (2)')
  const crv = key.get(COSE_KEY_CRV)
  const curve = typeof crv === 'number' ? COSE_EC2_CURVES.get(crv) : undefined
  if (curve === undefined)
    throw fail(`the COSE_Key curve ${String(crv)} is not P-256, P-384 or P-521`)
  const x = key.get(COSE_KEY_X)
  const y = key.get(COSE_KEY_Y)
  if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array)) {
    throw fail('the COSE_Key x and y coordinates are not both byte strings')
  }
  if (x.length !== curve.size || y.length !== curve.size) {
    throw fail(
      `the ${curve.curve} coordinates are ${x.length} and ${y.length} bytes, not ${curve.size}`,
    )
  }
  const point = new Uint8Array(curve.size * 2)
  point.set(x, 0)
  point.set(y, curve.size)

  return { curve: curve.curve, point }
}
