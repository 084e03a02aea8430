/**
 * PCR values for a quote: from the evidence (Trustee's and Azure's JSON carry them) or from a
 * collateral file, matched to the quote's PCR selection. A quote signs only the digest of the
 * selected values, so the values themselves are trusted only once that digest is recomputed from
 * them. Pure: no crypto, no I/O.
 *
 * Collateral files, JSON, hex values (an optional `0x` prefix is allowed):
 * - `pcrs_sha1.json`, `pcrs_sha256.json`, `pcrs_sha384.json`, `pcrs_sha512.json`: the values of
 *   one bank, as an array indexed by PCR number (null for a PCR not given) or an object keyed by
 *   the PCR number in decimal.
 * - `pcrs.json`: an object keyed by bank name (`sha256`, ...) whose values have either form
 *   above, or one such array or object when the quote selects a single bank.
 *
 * @see TCG, TPM 2.0 Library, Part 3: Commands, §18.4 (TPM2_Quote: pcrDigest is the digest of
 *   the selected PCRs, in selection order)
 * @module
 */

import { fromHex } from '../../core/bytes.js'
import type { CollateralBundle } from '../../core/collateral-bundle.js'
import { ConfigError, ParseError } from '../../core/errors.js'
import { MAX_DIGEST_SIZE, TPM_HASHES } from './constants.js'
import type { TpmsPcrSelection } from './format.js'

/** PCR values by bank (`TPM_ALG_ID` of its hash) and PCR index. */
export type PcrValues = ReadonlyMap<number, ReadonlyMap<number, Uint8Array>>

/** Names of the collateral files read for PCR values, in the order they are tried. */
export const PCR_COLLATERAL_FILES = [
  'pcrs.json',
  'pcrs_sha256.json',
  'pcrs_sha384.json',
  'pcrs_sha512.json',
  'pcrs_sha1.json',
] as const

/** Highest PCR index read from a file. */
const MAX_PCR_INDEX = 255

function collateralError(file: string, message: string, cause?: unknown): ParseError {
  return new ParseError(
    'ERR_PARSE_COLLATERAL',
    `${file}: ${message}`,
    { structure: 'PcrValues', field: file },
    cause === undefined ? undefined : { cause },
  )
}

function bankByName(name: string): number | undefined {
  for (const [id, hash] of TPM_HASHES) if (hash.name === name.toLowerCase()) return id
  return undefined
}

function pcrValue(value: unknown, file: string, where: string): Uint8Array {
  if (typeof value !== 'string') throw collateralError(file, `${where} is not a hex string`)
  let bytes: Uint8Array
  try {
    bytes = fromHex(value, where)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    throw collateralError(file, `${where} is not hex`, error)
  }
  if (bytes.length === 0 || bytes.length > MAX_DIGEST_SIZE) {
    throw collateralError(file, `${where} is ${bytes.length} bytes, not a digest`)
  }
  return bytes
}

/** Reads one bank: an array indexed by PCR number, or an object keyed by decimal PCR number. */
function readBank(value: unknown, file: string, bankName: string): Map<number, Uint8Array> {
  const bank = new Map<number, Uint8Array>()
  if (Array.isArray(value)) {
    if (value.length > MAX_PCR_INDEX + 1)
      throw collateralError(file, `${bankName} lists more than 256 PCRs`)
    for (const [index, entry] of value.entries()) {
      if (entry !== null) bank.set(index, pcrValue(entry, file, `${bankName}[${index}]`))
    }
    return bank
  }
  if (typeof value !== 'object' || value === null) {
    throw collateralError(file, `${bankName} is neither an array nor an object of PCR values`)
  }
  for (const [key, entry] of Object.entries(value)) {
    const index = /^(?:0|[1-9]\d{0,2})$/.test(key) ? Number(key) : Number.NaN
    if (!(index <= MAX_PCR_INDEX))
      throw collateralError(file, `${bankName} has the key "${key}", not a PCR number`)
    bank.set(index, pcrValue(entry, file, `${bankName}[${index}]`))
  }
  return bank
}

/**
 * Reads a PCR collateral file. `selection` names the bank of a file that does not: the only bank
 * the quote selects.
 *
 * @throws ParseError `ERR_PARSE_COLLATERAL` when the file is not in one of the forms above.
 */
export function parsePcrFile(
  file: string,
  bytes: Uint8Array,
  selection: readonly TpmsPcrSelection[],
): Map<number, Map<number, Uint8Array>> {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    throw collateralError(file, 'is not JSON', error)
  }
  const named = /^pcrs_(sha1|sha256|sha384|sha512)\.json$/.exec(file)?.[1]
  const values = new Map<number, Map<number, Uint8Array>>()
  if (named !== undefined) {
    values.set(bankByName(named)!, readBank(json, file, named))
    return values
  }
  const banks =
    typeof json === 'object' && json !== null && !Array.isArray(json) ? Object.entries(json) : []
  if (banks.length > 0 && banks.every(([key]) => bankByName(key) !== undefined)) {
    for (const [name, bank] of banks) values.set(bankByName(name)!, readBank(bank, file, name))
    return values
  }
  const only = selection.length === 1 ? selection[0] : undefined
  if (only === undefined) {
    throw collateralError(
      file,
      'names no bank, and the quote selects more than one; key the values by bank name',
    )
  }
  const name = TPM_HASHES.get(only.hash)?.name ?? `bank 0x${only.hash.toString(16)}`
  values.set(only.hash, readBank(json, file, name))
  return values
}

/**
 * Reads the PCR values in a collateral bundle, merging every PCR file present.
 *
 * @throws ParseError `ERR_PARSE_COLLATERAL` when a file is malformed.
 */
export function pcrValuesFromBundle(
  bundle: CollateralBundle | undefined,
  selection: readonly TpmsPcrSelection[],
): PcrValues | undefined {
  let merged: Map<number, Map<number, Uint8Array>> | undefined
  for (const file of PCR_COLLATERAL_FILES) {
    const bytes = bundle?.get(file)
    if (bytes === undefined) continue
    merged ??= new Map()
    for (const [bank, values] of parsePcrFile(file, bytes, selection)) {
      const into = merged.get(bank) ?? new Map<number, Uint8Array>()
      for (const [index, value] of values) into.set(index, value)
      merged.set(bank, into)
    }
  }
  return merged
}

/**
 * Matches a flat list of PCR values, as evidence carries them, to the selection. A list with one
 * value per selected PCR is read in selection order. Otherwise, when the quote selects one bank
 * and the list covers its highest selected PCR, the list is read by index.
 *
 * @throws ParseError `ERR_PARSE_MALFORMED` when neither rule applies.
 */
export function assignPcrList(
  list: readonly Uint8Array[],
  selection: readonly TpmsPcrSelection[],
  structure: string,
): PcrValues {
  const selected = selection.flatMap((bank) =>
    bank.pcrs.map((index) => [bank.hash, index] as const),
  )
  const values = new Map<number, Map<number, Uint8Array>>()
  const put = (bank: number, index: number, value: Uint8Array) => {
    const into = values.get(bank) ?? new Map<number, Uint8Array>()
    into.set(index, value)
    values.set(bank, into)
  }
  if (list.length === selected.length) {
    for (const [i, [bank, index]] of selected.entries()) put(bank, index, list[i]!)
    return values
  }
  const only = selection.length === 1 ? selection[0] : undefined
  const highest = only?.pcrs.at(-1) ?? -1
  if (only !== undefined && list.length > highest) {
    for (const [index, value] of list.entries()) put(only.hash, index, value)
    return values
  }
  const message = `${list.length} PCR values match neither the ${selected.length} selected PCRs nor their indexes`
  throw new ParseError('ERR_PARSE_MALFORMED', message, { structure, field: 'pcrs' })
}

/** Returns the selected values in the order TPM2_Quote digests them, and the PCRs without a value. */
export function selectedPcrValues(
  values: PcrValues,
  selection: readonly TpmsPcrSelection[],
): { readonly ordered: readonly Uint8Array[]; readonly missing: readonly string[] } {
  const ordered: Uint8Array[] = []
  const missing: string[] = []
  for (const bank of selection) {
    const name = TPM_HASHES.get(bank.hash)?.name ?? `0x${bank.hash.toString(16)}`
    for (const index of bank.pcrs) {
      const value = values.get(bank.hash)?.get(index)
      if (value === undefined) missing.push(`${name}:${index}`)
      else ordered.push(value)
    }
  }
  return { ordered, missing }
}
