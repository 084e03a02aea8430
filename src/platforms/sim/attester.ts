/**
 * Makes evidence of the simulated TEE, signed with a local key. Node only. For development and
 * tests: the evidence proves nothing about hardware.
 *
 * @module
 */
import { createHash, sign } from 'node:crypto'
import { ConfigError } from '../../core/errors.js'
import type { SimKey } from './dev-key.js'
import {
  encodeSimBody,
  encodeSimEvidence,
  SIM_ATTRIBUTES_SIZE,
  SIM_DEBUG_ATTRIBUTE,
  SIM_MEASUREMENT_SIZE,
  SIM_REPORT_DATA_SIZE,
  SIM_RTMR_COUNT,
} from './format.js'

/** The values a simulated TD reports. */
export interface SimEvidenceInput {
  /** Up to 64 bytes bound into the evidence, zero-padded on the right. */
  readonly reportData: Uint8Array
  /** The 48-byte launch measurement. Default: SHA-384 of the UTF-8 text `confide-sim`. */
  readonly mrTd?: Uint8Array
  /** Up to four 48-byte runtime measurement registers. Default: zeros. */
  readonly rtmr?: readonly Uint8Array[]
  /** Report a TD in debug mode. Default: false. */
  readonly debug?: boolean
  /** The issue time written into the evidence. Default: now. */
  readonly at?: Date
}

/** Returns the launch measurement of a simulated TD when none is given. */
export function defaultSimMrTd(): Uint8Array {
  return new Uint8Array(createHash('sha384').update('confide-sim', 'utf8').digest())
}

function sized(value: Uint8Array, size: number, what: string): Uint8Array {
  if (value.length > size) {
    const message = `${what} is ${value.length} bytes; at most ${size} are allowed`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }
  const out = new Uint8Array(size)
  out.set(value)

  return out
}

function measurement(value: Uint8Array, what: string): Uint8Array {
  if (value.length !== SIM_MEASUREMENT_SIZE) {
    const message = `${what} is ${value.length} bytes; it must be ${SIM_MEASUREMENT_SIZE}`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }

  return value
}

/**
 * Makes simulated evidence: a body like a TDX quote's claims, signed with Ed25519 by `key`.
 * `confide verify` accepts it as valid only when the key is trusted.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for report data over 64 bytes, a measurement that is
 *   not 48 bytes, or more than four RTMRs.
 */
export function simEvidence(key: SimKey, input: SimEvidenceInput): Uint8Array {
  const rtmrs = input.rtmr ?? []
  if (rtmrs.length > SIM_RTMR_COUNT) {
    const message = `${rtmrs.length} RTMRs given; at most ${SIM_RTMR_COUNT} are allowed`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }
  const rtmr = Array.from({ length: SIM_RTMR_COUNT }, (_, i) => {
    const value = rtmrs[i]
    return value === undefined
      ? new Uint8Array(SIM_MEASUREMENT_SIZE)
      : measurement(value, `RTMR[${i}]`)
  })
  const debug = input.debug === true
  const tdAttributes = new Uint8Array(SIM_ATTRIBUTES_SIZE)
  if (debug) tdAttributes[0] = SIM_DEBUG_ATTRIBUTE
  const bodyBytes = encodeSimBody({
    issuedAt: (input.at ?? new Date()).toISOString(),
    keyId: key.keyId,
    mrTd: input.mrTd === undefined ? defaultSimMrTd() : measurement(input.mrTd, 'mrTd'),
    mrConfigId: new Uint8Array(SIM_MEASUREMENT_SIZE),
    mrOwner: new Uint8Array(SIM_MEASUREMENT_SIZE),
    mrOwnerConfig: new Uint8Array(SIM_MEASUREMENT_SIZE),
    rtmr,
    reportData: sized(input.reportData, SIM_REPORT_DATA_SIZE, 'report data'),
    tdAttributes,
    xfam: new Uint8Array(SIM_ATTRIBUTES_SIZE),
    debug,
  })
  const signature = new Uint8Array(sign(null, bodyBytes, key.privateKey))

  return encodeSimEvidence(bodyBytes, signature)
}
