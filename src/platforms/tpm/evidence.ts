/**
 * TPM evidence in each form it arrives in. Pure: no crypto, no I/O.
 *
 * - `tpms-attest`: a bare TPMS_ATTEST (`tpm2_quote -m`). The TPMT_SIGNATURE and the PCR values
 *   come as collateral files (see collateral.ts).
 * - `tpm2b-attest`: a TPM2B_ATTEST, optionally followed by its TPMT_SIGNATURE: the response
 *   parameters of TPM2_Quote as the TPM returns them.
 * - `trustee-json`: Trustee's TPM evidence, `{"ak_public": base64 DER, "tpm_quote": {"message":
 *   base64 TPMS_ATTEST, "signature": base64 TPMT_SIGNATURE, "pcrs": [hex, ...]}}`.
 * - `azure-snp-vtpm`: an Azure confidential VM on SEV-SNP, as Trustee's az-snp-vtpm attester
 *   sends it: `{"quote": {"signature", "message", "pcrs"}, "report": HCL report, "vcek": PEM}`.
 * - `azure-tdx-vtpm`: an Azure confidential VM on TDX, as Trustee's az-tdx-vtpm attester sends
 *   it: `{"tpm_quote": {...}, "hcl_report": HCL report, "td_quote": DCAP quote}`.
 *
 * In the Azure forms, byte fields are JSON arrays of numbers (serde's encoding of `Vec<u8>`) and
 * the quote signature is the bare RSASSA signature, without its TPMT_SIGNATURE header. Base64
 * text is accepted in place of a number array.
 *
 * @module
 */
import { fromBase64, fromHex } from '../../core/bytes.js'
import { ConfigError, ParseError } from '../../core/errors.js'
import { type DcapQuote, parseQuote } from '../dcap/quote.js'
import { parseSnpEvidence, type SnpEvidence } from '../snp/format.js'
import { TPM_ALG, TPM_GENERATED_VALUE } from './constants.js'
import {
  parseTpmsAttest,
  parseTpmtSignature,
  readTpmtSignature,
  type TpmsAttest,
  type TpmtSignature,
} from './format.js'
import { type HclReport, parseHclReport } from './hcl-report.js'
import { TpmReader } from './marshal.js'
import { assignPcrList, type PcrValues } from './pcrs.js'
import { type AttestationKey, readAttestationKey } from './public-key.js'

/** The form TPM evidence arrived in. */
export type TpmInputForm =
  | 'tpms-attest'
  | 'tpm2b-attest'
  | 'trustee-json'
  | 'azure-snp-vtpm'
  | 'azure-tdx-vtpm'

/** Largest evidence accepted. An Azure TDX bundle with its quote as numbers is about 40 KiB. */
export const MAX_INPUT_SIZE = 256 * 1024

/** The hardware half of Azure evidence. */
export type AzureHardware =
  | {
      readonly hardware: 'snp'
      readonly hcl: HclReport
      readonly snp: SnpEvidence
      /** The VCEK the attester sent (PEM text), or undefined. Not trusted: its chain is checked. */
      readonly vcek: Uint8Array | undefined
    }
  | { readonly hardware: 'tdx'; readonly hcl: HclReport; readonly tdQuote: DcapQuote }

/** Decoded TPM evidence, ready to verify. */
export interface TpmEvidence {
  readonly form: TpmInputForm
  readonly attest: TpmsAttest
  /** The signature the evidence carries, or undefined when it comes as collateral. */
  readonly signature: TpmtSignature | undefined
  /** The PCR values the evidence carries, matched to the selection. Not trusted until digested. */
  readonly pcrs: PcrValues | undefined
  /** The attestation key the evidence names. Not trusted until it matches a trusted key. */
  readonly akPublic: AttestationKey | undefined
  /** For the Azure forms, the HCL report and the hardware evidence that binds the AK. */
  readonly azure: AzureHardware | undefined
}

const STRUCTURE = 'TpmEvidence'

function malformed(message: string, field?: string): ParseError {
  return new ParseError('ERR_PARSE_MALFORMED', `TPM evidence: ${message}`, {
    structure: STRUCTURE,
    ...(field === undefined ? {} : { field }),
  })
}

function startsWithMagic(bytes: Uint8Array, offset: number): boolean {
  const magic = [0xff, 0x54, 0x43, 0x47]
  return magic.every((byte, i) => bytes[offset + i] === byte)
}

/** Decodes a JSON byte field: an array of numbers 0 to 255, or base64 text. */
function jsonBytes(value: unknown, field: string): Uint8Array {
  if (Array.isArray(value)) {
    if (!value.every((n) => Number.isInteger(n) && n >= 0 && n <= 255)) {
      throw malformed(`${field} is an array, but not of byte values`, field)
    }
    return Uint8Array.from(value as number[])
  }
  if (typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0) {
    return fromBase64(value)
  }
  throw malformed(`${field} is neither an array of bytes nor base64 text`, field)
}

/** Decodes a JSON PCR value: hex text, or an array of byte values. */
function jsonPcr(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string') return jsonBytes(value, field)
  try {
    return fromHex(value, field)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    throw malformed(`${field} is not hex`, field)
  }
}

function objectField(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`${field} is not an object`, field)
  }
  return value as Record<string, unknown>
}

function pcrList(value: unknown, field: string): Uint8Array[] {
  if (!Array.isArray(value)) throw malformed(`${field} is not an array`, field)
  return value.map((entry, index) => jsonPcr(entry, `${field}[${index}]`))
}

/** Decodes the `{signature, message, pcrs}` of a JSON quote; `raw` marks a bare RSASSA signature. */
function jsonQuote(
  value: unknown,
  field: string,
  raw: boolean,
): Pick<TpmEvidence, 'attest' | 'signature' | 'pcrs'> {
  const quote = objectField(value, field)
  const attest = parseTpmsAttest(jsonBytes(quote.message, `${field}.message`))
  const signatureBytes = jsonBytes(quote.signature, `${field}.signature`)
  const signature: TpmtSignature = raw
    ? { sigAlg: 'rsassa', hash: TPM_ALG.SHA256, sig: signatureBytes }
    : parseTpmtSignature(signatureBytes)
  const pcrs =
    quote.pcrs === undefined
      ? undefined
      : assignPcrList(pcrList(quote.pcrs, `${field}.pcrs`), attest.pcrSelect, STRUCTURE)

  return { attest, signature, pcrs }
}

function fromTrusteeJson(json: Record<string, unknown>): TpmEvidence {
  if (typeof json.ak_public !== 'string')
    throw malformed('ak_public is not base64 text', 'ak_public')
  const akPublic = readAttestationKey(jsonBytes(json.ak_public, 'ak_public'))

  return {
    form: 'trustee-json',
    ...jsonQuote(json.tpm_quote, 'tpm_quote', false),
    akPublic,
    azure: undefined,
  }
}

function fromAzureSnpJson(json: Record<string, unknown>): TpmEvidence {
  const hclBytes = jsonBytes(json.report, 'report')
  const hcl = parseHclReport(hclBytes)
  if (hcl.hardware !== 'snp')
    throw malformed('report is an HCL report of a TDX VM, not SEV-SNP', 'report')
  const vcek =
    typeof json.vcek === 'string' && json.vcek !== ''
      ? new TextEncoder().encode(json.vcek)
      : undefined
  const azure = { hardware: 'snp' as const, hcl, snp: parseSnpEvidence(hclBytes), vcek }

  return {
    form: 'azure-snp-vtpm',
    ...jsonQuote(json.quote, 'quote', true),
    akPublic: undefined,
    azure,
  }
}

function fromAzureTdxJson(json: Record<string, unknown>): TpmEvidence {
  const hcl = parseHclReport(jsonBytes(json.hcl_report, 'hcl_report'))
  if (hcl.hardware !== 'tdx')
    throw malformed('hcl_report is an HCL report of an SEV-SNP VM, not TDX', 'hcl_report')
  const tdQuote = parseQuote(jsonBytes(json.td_quote, 'td_quote'))
  if (tdQuote.header.teeType !== 'TDX') throw malformed('td_quote is not a TDX quote', 'td_quote')
  const azure = { hardware: 'tdx' as const, hcl, tdQuote }

  return {
    form: 'azure-tdx-vtpm',
    ...jsonQuote(json.tpm_quote, 'tpm_quote', true),
    akPublic: undefined,
    azure,
  }
}

/** Names the JSON form by its keys, or returns undefined. */
export function jsonFormOf(json: unknown): TpmInputForm | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined
  const has = (key: string) => Object.hasOwn(json, key)
  if (has('tpm_quote') && has('ak_public')) return 'trustee-json'
  if (has('tpm_quote') && has('hcl_report') && has('td_quote')) return 'azure-tdx-vtpm'
  if (has('quote') && has('report')) return 'azure-snp-vtpm'
  return undefined
}

function fromJson(bytes: Uint8Array): TpmEvidence {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    throw new ParseError(
      'ERR_PARSE_MALFORMED',
      'TPM evidence: the input is not JSON',
      { structure: STRUCTURE },
      { cause: error },
    )
  }
  const form = jsonFormOf(json)
  const object = json as Record<string, unknown>
  if (form === 'trustee-json') return fromTrusteeJson(object)
  if (form === 'azure-tdx-vtpm') return fromAzureTdxJson(object)
  if (form === 'azure-snp-vtpm') return fromAzureSnpJson(object)
  throw malformed(
    'JSON with neither tpm_quote and ak_public (Trustee), quote and report (Azure SEV-SNP), nor tpm_quote, hcl_report and td_quote (Azure TDX)',
  )
}

/** Decodes a TPM2B_ATTEST and the TPMT_SIGNATURE that may follow it. */
function fromTpm2bAttest(bytes: Uint8Array): TpmEvidence {
  const reader = new TpmReader(bytes, 'TPM2B_ATTEST')
  const size = reader.u16('size')
  const attest = parseTpmsAttest(reader.bytes(size, 'attestationData'), 2)
  const signature = reader.remaining === 0 ? undefined : readTpmtSignature(reader)
  if (reader.remaining !== 0) {
    throw reader.error('ERR_PARSE_MALFORMED', `${reader.remaining} bytes follow the TPMT_SIGNATURE`)
  }
  return {
    form: 'tpm2b-attest',
    attest,
    signature,
    pcrs: undefined,
    akPublic: undefined,
    azure: undefined,
  }
}

/** Returns the first non-whitespace byte, or undefined. */
function firstNonSpace(bytes: Uint8Array): number | undefined {
  return bytes.find((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d)
}

/**
 * Decodes TPM evidence in any of the forms the module comment lists. Signatures, keys and PCR
 * digests are not checked here.
 *
 * @throws ParseError `ERR_PARSE_OVERSIZED` for input over 256 KiB, or the error of the structure
 *   that is malformed.
 */
export function parseTpmEvidence(bytes: Uint8Array): TpmEvidence {
  if (bytes.length > MAX_INPUT_SIZE) {
    const message = `input is ${bytes.length} bytes, more than ${MAX_INPUT_SIZE}`
    throw new ParseError('ERR_PARSE_OVERSIZED', message, { structure: STRUCTURE })
  }
  if (startsWithMagic(bytes, 0)) {
    const attest = parseTpmsAttest(bytes)
    return {
      form: 'tpms-attest',
      attest,
      signature: undefined,
      pcrs: undefined,
      akPublic: undefined,
      azure: undefined,
    }
  }
  if (startsWithMagic(bytes, 2)) return fromTpm2bAttest(bytes)
  if (firstNonSpace(bytes) === 0x7b) return fromJson(bytes)
  const magic = TPM_GENERATED_VALUE.toString(16)
  throw malformed(
    `expected a TPMS_ATTEST (starting 0x${magic}), a TPM2B_ATTEST, or Trustee or Azure JSON evidence`,
  )
}

/**
 * Tells cheaply whether bytes look like TPM evidence: a TPMS_ATTEST or TPM2B_ATTEST by its magic,
 * or JSON with the keys of one of the JSON forms. Returns false rather than throwing.
 */
export function sniffTpmEvidence(bytes: Uint8Array): boolean {
  if (bytes.length < 6 || bytes.length > MAX_INPUT_SIZE) return false
  if (startsWithMagic(bytes, 0)) return true
  if (startsWithMagic(bytes, 2)) return ((bytes[0]! << 8) | bytes[1]!) <= bytes.length - 2
  if (firstNonSpace(bytes) !== 0x7b) return false
  try {
    return jsonFormOf(JSON.parse(new TextDecoder().decode(bytes))) !== undefined
  } catch {
    // Text that is not JSON is not TPM evidence.
    return false
  }
}
