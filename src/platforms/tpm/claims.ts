/**
 * Claims of a TPM quote.
 *
 * Neutral names: `reportData` is extraData, the nonce the quote was asked for. A bare quote has no
 * `measurement`: its PCRs are the measurements, under `raw.pcrs`. An Azure vTPM quote takes
 * `measurement`, `debug`, `platformId` and `tcb` from the hardware report that binds it.
 *
 * `raw` contains the TPMS_ATTEST fields by their specification names (`qualifiedSigner`,
 * `extraData`, `clockInfo`, `firmwareVersion`, `pcrSelect`, `pcrDigest`), with u64 values as 16
 * hex digits. `raw.pcrs` lists the values of the selected PCRs by bank name and decimal index,
 * or is null when none were given.
 *
 * @module
 */
import { toHex } from '../../core/bytes.js'
import type { Claims, ClaimValue } from '../../core/types.js'
import { TPM_HASHES } from './constants.js'
import type { TpmEvidence } from './evidence.js'
import type { TpmsAttest, TpmtSignature } from './format.js'
import type { PcrValues } from './pcrs.js'
import type { AttestationKey } from './public-key.js'

function u64Hex(value: bigint): string {
  return value.toString(16).padStart(16, '0')
}

function hashName(id: number): string {
  return TPM_HASHES.get(id)?.name ?? `0x${id.toString(16).padStart(4, '0')}`
}

function pcrClaims(attest: TpmsAttest, values: PcrValues | undefined): ClaimValue {
  if (values === undefined) return null
  const banks: { [bank: string]: ClaimValue } = {}
  for (const bank of attest.pcrSelect) {
    const selected: { [index: string]: ClaimValue } = {}
    for (const index of bank.pcrs) {
      const value = values.get(bank.hash)?.get(index)
      if (value !== undefined) selected[String(index)] = toHex(value)
    }
    banks[hashName(bank.hash)] = selected
  }
  return banks
}

function signatureClaims(signature: TpmtSignature | undefined): ClaimValue {
  return signature === undefined
    ? null
    : { sigAlg: signature.sigAlg, hash: hashName(signature.hash) }
}

/** Builds the `raw` claims of the TPMS_ATTEST fields and the PCR values. */
export function attestClaims(
  attest: TpmsAttest,
  signature: TpmtSignature | undefined,
  values: PcrValues | undefined,
  attestationKey: AttestationKey | undefined,
): { [key: string]: ClaimValue } {
  return {
    qualifiedSigner: toHex(attest.qualifiedSigner),
    extraData: toHex(attest.extraData),
    clockInfo: {
      clock: u64Hex(attest.clockInfo.clock),
      resetCount: attest.clockInfo.resetCount,
      restartCount: attest.clockInfo.restartCount,
      safe: attest.clockInfo.safe,
    },
    firmwareVersion: u64Hex(attest.firmwareVersion),
    pcrSelect: attest.pcrSelect.map((bank) => ({
      hash: hashName(bank.hash),
      hashAlg: bank.hash,
      pcrSelect: toHex(bank.select),
      pcrs: [...bank.pcrs],
    })),
    pcrDigest: toHex(attest.pcrDigest),
    pcrs: pcrClaims(attest, values),
    signature: signatureClaims(signature),
    attestationKey: attestationKey === undefined ? null : toHex(attestationKey.spki),
  }
}

/**
 * Maps a TPM quote to claims. `values` are the PCR values the digest was checked against, and
 * `attestationKey` the key the signature verified with, when it did.
 */
export function tpmClaims(
  evidence: TpmEvidence,
  signature: TpmtSignature | undefined,
  values: PcrValues | undefined,
  attestationKey: AttestationKey | undefined,
): Claims {
  return {
    platform: 'tpm',
    reportData: toHex(evidence.attest.extraData),
    raw: {
      form: evidence.form,
      ...attestClaims(evidence.attest, signature, values, attestationKey),
    },
  }
}
