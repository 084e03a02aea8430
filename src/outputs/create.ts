/**
 * The workload side of an attested output: build the document from the result, the digests of
 * the inputs used and the code claims of the workload's own evidence, then sign it. Node only.
 *
 * @module
 */
import { toHex } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'
import type { Claims } from '../core/types.js'
import { type VerifyEvidenceOptions, verifyEvidence } from '../verify.js'
import type { OutputBundle } from './bundle.js'
import {
  type CodeClaims,
  encodeOutputDocument,
  OUTPUT_DOCUMENT_VERSION,
  type OutputDocument,
  type OutputResult,
} from './document.js'
import { identityReportData, signWithIdentity, type WorkloadIdentity } from './identity.js'

/** The contents of an output, and the identity that signs it. */
export interface CreateOutputInput {
  readonly identity: WorkloadIdentity
  /** The workload's evidence, whose report data binds `identity` (see `identityReportData`). */
  readonly evidence: Uint8Array
  readonly result: OutputResult
  /** The inputs used, in order: the `OpenedInput`s that `openInput` returned, or their digests. */
  readonly inputs: readonly { readonly digest: Uint8Array }[]
  /** When the output is issued. Default: now. */
  readonly issuedAt?: Date
}

/**
 * Returns the code claims of verified claims: platform, measurement and, where present, signer.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when the claims have no measurement.
 */
export function codeClaimsOf(claims: Claims): CodeClaims {
  if (claims.measurement === undefined) {
    const message = `${claims.platform} evidence states no measurement, so an output cannot name its code`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }
  const code = { platform: claims.platform, measurement: claims.measurement.toLowerCase() }
  if (claims.signer === undefined) return code

  return { ...code, signer: claims.signer.toLowerCase() }
}

/**
 * Creates a signed output. The code claims are read from the workload's own evidence. That
 * reading is no verification, because the relying party checks the evidence, so `verify` only
 * needs what reading the claims takes, such as the platform.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when the evidence does not bind the identity's keys
 *   or states no measurement; ParseError when the evidence cannot be decoded.
 */
export async function createOutput(
  input: CreateOutputInput,
  options: { readonly verify?: VerifyEvidenceOptions } = {},
): Promise<OutputBundle> {
  const verification = await verifyEvidence(input.evidence, { allowDebug: true, ...options.verify })
  const expected = toHex(identityReportData(input.identity))
  if (verification.claims.reportData?.toLowerCase() !== expected) {
    const message = `the evidence's report data does not bind this workload identity; attest with report data ${expected}`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }
  const document: OutputDocument = {
    version: OUTPUT_DOCUMENT_VERSION,
    workload: input.identity.publicKeys,
    result: input.result,
    inputs: input.inputs.map((used) => toHex(used.digest)),
    code: codeClaimsOf(verification.claims),
    issuedAt: (input.issuedAt ?? new Date()).toISOString(),
  }
  const bytes = encodeOutputDocument(document)

  return {
    document: bytes,
    signature: signWithIdentity(input.identity, bytes),
    evidence: input.evidence,
  }
}
