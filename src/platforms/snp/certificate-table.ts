/**
 * The certificate table that SNP_GET_EXT_REPORT returns beside a report, and that configfs-tsm
 * exposes as `auxblob`: entries of a 16-byte GUID, a u32 offset and a u32 length, ended by an
 * all-zero entry, followed by the certificates the entries point to. Offsets count from the start
 * of the table.
 *
 * GUIDs are stored in RFC 4122 byte order (the bytes of the textual form, in order).
 *
 * @see AMD, "SEV-ES Guest-Hypervisor Communication Block Standardization" (publication 56421),
 *   revision 2.03, §4.1.8.1 (MSG_REPORT_REQ, certificate table).
 * @module
 */
import { ByteReader } from '../../core/byte-reader.js'
import { isAllZero, toHex } from '../../core/bytes.js'

/** Kind of a certificate table entry, by its GUID. The ASK GUID also carries the ASVK. */
export type SnpTableEntryKind = 'vcek' | 'vlek' | 'ask' | 'ark'

/** The GUIDs defined for MSG_REPORT_REQ certificate tables, in textual form. */
export const SNP_TABLE_GUIDS: Readonly<Record<SnpTableEntryKind, string>> = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
}

/** One entry of a certificate table. */
export interface SnpTableEntry {
  /** GUID in textual form, lower case. */
  readonly guid: string
  /** Kind the GUID denotes, or undefined for a GUID that is not defined for the table. */
  readonly kind: SnpTableEntryKind | undefined
  /** The entry's bytes (a DER certificate for the known kinds), copied. */
  readonly data: Uint8Array
}

const STRUCTURE = 'SnpCertificateTable'
/** Size of one entry: GUID, offset and length. */
export const SNP_TABLE_ENTRY_SIZE = 24
/** Maximum number of entries. Four GUIDs are defined, and the margin allows vendor extras. */
const MAX_ENTRIES = 64

/** Formats 16 GUID bytes in RFC 4122 order as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
export function guidToText(bytes: Uint8Array): string {
  const hex = toHex(bytes)
  const groups = [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20),
  ]
  return groups.join('-')
}

function kindOf(guid: string): SnpTableEntryKind | undefined {
  const kinds = Object.keys(SNP_TABLE_GUIDS) as SnpTableEntryKind[]
  return kinds.find((kind) => SNP_TABLE_GUIDS[kind] === guid)
}

interface EntryHeader {
  readonly guid: string
  readonly offset: number
  readonly length: number
}

function readHeaders(reader: ByteReader): EntryHeader[] {
  const headers: EntryHeader[] = []
  for (;;) {
    const guidBytes = reader.bytes(16, 'GUID')
    const offset = reader.u32le('OFFSET')
    const length = reader.u32le('LENGTH')
    if (offset === 0 && length === 0 && isAllZero(guidBytes)) return headers
    if (headers.length === MAX_ENTRIES) {
      throw reader.error(
        'ERR_PARSE_OVERSIZED',
        `certificate table has more than ${MAX_ENTRIES} entries`,
      )
    }
    headers.push({ guid: guidToText(guidBytes), offset, length })
  }
}

/**
 * Decodes a certificate table. An empty input is an empty table.
 *
 * Checks that the table ends with an all-zero entry, that no GUID repeats, and that every entry
 * lies after the entry list and inside the input. Does not decode the certificates.
 *
 * @param bytes the table, from its first entry to the end of the certificate data
 * @param base offset of `bytes` in the whole input, for error offsets
 * @throws ParseError `ERR_PARSE_TRUNCATED`, `ERR_PARSE_MALFORMED` or `ERR_PARSE_OVERSIZED`.
 */
export function parseCertificateTable(bytes: Uint8Array, base = 0): SnpTableEntry[] {
  if (bytes.length === 0) return []
  const reader = new ByteReader(bytes, STRUCTURE, base)
  const headers = readHeaders(reader)
  const listEnd = reader.offset
  const seen = new Set<string>()

  return headers.map((header, index) => {
    const field = `entry ${index} (${header.guid})`
    if (seen.has(header.guid)) {
      throw reader.error(
        'ERR_PARSE_MALFORMED',
        `certificate table lists GUID ${header.guid} twice`,
        field,
      )
    }
    seen.add(header.guid)
    if (header.offset < listEnd || header.length === 0) {
      throw reader.error(
        'ERR_PARSE_MALFORMED',
        `certificate table ${field} has offset ${header.offset} and length ${header.length}, ` +
          `but data must follow the ${listEnd}-byte entry list and be non-empty`,
        field,
      )
    }
    const data = new ByteReader(bytes, STRUCTURE, base)
    data.skip(header.offset, field)

    return { guid: header.guid, kind: kindOf(header.guid), data: data.bytes(header.length, field) }
  })
}
