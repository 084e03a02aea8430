/**
 * Test-only SEV-SNP material: reports written field by field and signed with generated keys,
 * an ARK → ASK/ASVK → VCEK/VLEK PKI with chosen AMD extensions, certificate tables and HCL
 * reports.
 * The private keys here protect nothing.
 */
import { type KeyObject, sign } from 'node:crypto'
import { fromHex } from '../../../src/core/bytes.js'
import { SNP_TABLE_GUIDS } from '../../../src/platforms/snp/certificate-table.js'
import { type SnpProduct, tcbLayout } from '../../../src/platforms/snp/product.js'
import { type Issued, issue } from '../../helpers/fake-pki.js'

/** Fields of a fake report. Anything left out is zero or a sensible default. */
export interface FakeReport {
  readonly version?: number
  readonly guestSvn?: number
  /** Default 0x30000: SMT allowed, reserved bit 17 set, DEBUG clear. */
  readonly policy?: bigint
  readonly vmpl?: number
  /** KEY_INFO as a whole. Default: VCEK (0). */
  readonly keyInfo?: number
  readonly reportData?: Uint8Array
  readonly measurement?: Uint8Array
  readonly currentTcb?: Uint8Array
  readonly reportedTcb?: Uint8Array
  /** Family, model and stepping, written from version 3. Default: Milan (0x19, 0x01, 1). */
  readonly cpuid?: readonly [number, number, number]
  readonly chipId?: Uint8Array
  readonly launchMitVector?: bigint
  readonly currentMitVector?: bigint
}

export const REPORT_SIZE = 0x4a0
export const SIGNED_SIZE = 0x2a0

/** CPUID family, model and stepping of each product. */
export const CPUID: Readonly<Record<SnpProduct, readonly [number, number, number]>> = {
  Milan: [0x19, 0x01, 0x01],
  Genoa: [0x19, 0x11, 0x01],
  Turin: [0x1a, 0x02, 0x01],
}

/** Encodes named SPLs as a TCB_VERSION of `product`. */
export function tcbBytes(
  product: SnpProduct,
  spl: { bootloader: number; tee: number; snp: number; microcode: number; fmc?: number },
): Uint8Array {
  const bytes = new Uint8Array(8)
  tcbLayout(product).forEach((entry, index) => {
    if (entry.name !== 'reserved') bytes[index] = spl[entry.name] ?? 0
  })
  return bytes
}

export const MILAN_TCB = tcbBytes('Milan', { bootloader: 3, tee: 0, snp: 8, microcode: 115 })
export const TURIN_TCB = tcbBytes('Turin', { fmc: 1, bootloader: 1, tee: 1, snp: 4, microcode: 81 })

/** Returns a 64-byte CHIP_ID with every byte set, or on Turin 8 bytes followed by zeros. */
export function chipIdFor(product: SnpProduct): Uint8Array {
  const chipId = new Uint8Array(64)
  const size = product === 'Turin' ? 8 : 64
  for (let i = 0; i < size; i++) chipId[i] = (i * 7 + 1) & 0xff
  return chipId
}

/** Writes the unsigned report bytes (signature zero). */
export function writeReport(fields: FakeReport = {}): Uint8Array {
  const bytes = new Uint8Array(REPORT_SIZE)
  const view = new DataView(bytes.buffer)
  const version = fields.version ?? 3
  view.setUint32(0x00, version, true)
  view.setUint32(0x04, fields.guestSvn ?? 0, true)
  view.setBigUint64(0x08, fields.policy ?? 0x30000n, true)
  view.setUint32(0x30, fields.vmpl ?? 0, true)
  view.setUint32(0x34, 1, true)
  bytes.set(fields.currentTcb ?? fields.reportedTcb ?? MILAN_TCB, 0x38)
  view.setUint32(0x48, fields.keyInfo ?? 0, true)
  bytes.set(fields.reportData ?? new Uint8Array(64), 0x50)
  bytes.set(fields.measurement ?? new Uint8Array(48).fill(0xab), 0x90)
  bytes.set(fields.reportedTcb ?? MILAN_TCB, 0x180)
  if (version >= 3) bytes.set(fields.cpuid ?? CPUID.Milan, 0x188)
  bytes.set(fields.chipId ?? chipIdFor('Milan'), 0x1a0)
  bytes.set(fields.reportedTcb ?? MILAN_TCB, 0x1e0)
  bytes.set([1, 55, 1], 0x1e8)
  bytes.set([1, 55, 1], 0x1ec)
  bytes.set(fields.reportedTcb ?? MILAN_TCB, 0x1f0)
  if (version >= 5) {
    view.setBigUint64(0x1f8, fields.launchMitVector ?? 0n, true)
    view.setBigUint64(0x200, fields.currentMitVector ?? 0n, true)
  }
  return bytes
}

/** Signs bytes 0..0x29F with a P-384 key and writes R and S little-endian, in place. */
export function signReport(bytes: Uint8Array, privateKey: KeyObject): Uint8Array {
  const signature = sign('sha384', bytes.subarray(0, SIGNED_SIZE), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  })
  bytes.fill(0, SIGNED_SIZE, SIGNED_SIZE + 144)
  for (let i = 0; i < 48; i++) {
    bytes[SIGNED_SIZE + i] = signature[47 - i] ?? 0
    bytes[SIGNED_SIZE + 72 + i] = signature[95 - i] ?? 0
  }
  return bytes
}

function derInteger(value: number): Uint8Array {
  return value >= 0x80 ? Uint8Array.of(0x02, 0x02, 0x00, value) : Uint8Array.of(0x02, 0x01, value)
}

function derIa5(text: string): Uint8Array {
  return Uint8Array.of(0x16, text.length, ...new TextEncoder().encode(text))
}

/** Options for the AMD extensions of a fake VCEK or VLEK. */
export interface KeyExtensionSpec {
  readonly product: SnpProduct
  /** Product name extension. Default: the product. Null leaves it out. */
  readonly productName?: string | null
  readonly tcb: Uint8Array
  /** hwID for a VCEK, absent for a VLEK. */
  readonly hwId?: Uint8Array
  readonly cspId?: string
  /** Replace the encoded value of some extensions, by OID. */
  readonly override?: Readonly<Record<string, Uint8Array>>
}

/** Builds the AMD extensions of a VCEK or VLEK as `issue` takes them. */
export function keyExtensions(spec: KeyExtensionSpec): { oid: string; value: Uint8Array }[] {
  const extensions = [
    { oid: '1.3.6.1.4.1.3704.1.1', value: derInteger(spec.product === 'Turin' ? 1 : 0) },
  ]
  if (spec.productName !== null) {
    extensions.push({
      oid: '1.3.6.1.4.1.3704.1.2',
      value: derIa5(spec.productName ?? spec.product),
    })
  }
  tcbLayout(spec.product).forEach((entry, index) => {
    extensions.push({ oid: entry.oid, value: derInteger(spec.tcb[index] ?? 0) })
  })
  if (spec.hwId !== undefined) extensions.push({ oid: '1.3.6.1.4.1.3704.1.4', value: spec.hwId })
  if (spec.cspId !== undefined)
    extensions.push({ oid: '1.3.6.1.4.1.3704.1.5', value: derIa5(spec.cspId) })
  return extensions.map((e) => ({ oid: e.oid, value: spec.override?.[e.oid] ?? e.value }))
}

/** A fake AMD PKI of one product. */
export interface FakeAmdPki {
  readonly product: SnpProduct
  readonly ark: Issued
  readonly ask: Issued
  readonly asvk: Issued
}

/** Creates ARK-<product> with its ASK (SEV-<product>) and ASVK (SEV-VLEK-<product>), RSA-PSS. */
export function fakeAmdPki(product: SnpProduct = 'Milan'): FakeAmdPki {
  const ark = issue({ commonName: `ARK-${product}`, isCa: true, kind: 'RSA-PSS', serial: 1 })
  const ask = issue({ commonName: `SEV-${product}`, isCa: true, kind: 'RSA-PSS', serial: 2 }, ark)
  const asvk = issue(
    { commonName: `SEV-VLEK-${product}`, isCa: true, kind: 'RSA-PSS', serial: 3 },
    ark,
  )
  return { product, ark, ask, asvk }
}

/** Issues a P-384 VCEK (CN=SEV-VCEK) under `issuer` with the given extensions. */
export function fakeVcek(issuer: Issued, spec: KeyExtensionSpec, commonName = 'SEV-VCEK'): Issued {
  return issue({ commonName, kind: 'P-384', serial: 9, extensions: keyExtensions(spec) }, issuer)
}

/** Joins certificate table entries into a table with its all-zero end entry. */
export function certificateTable(
  entries: readonly { guid: string; data: Uint8Array }[],
): Uint8Array {
  const headerSize = (entries.length + 1) * 24
  const total = headerSize + entries.reduce((sum, e) => sum + e.data.length, 0)
  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  let offset = headerSize
  entries.forEach((entry, index) => {
    bytes.set(fromHex(entry.guid.replaceAll('-', '')), index * 24)
    view.setUint32(index * 24 + 16, offset, true)
    view.setUint32(index * 24 + 20, entry.data.length, true)
    bytes.set(entry.data, offset)
    offset += entry.data.length
  })
  return bytes
}

export { SNP_TABLE_GUIDS }

/** Wraps a report in an Azure HCL report with the given runtime data. */
export function hclReport(report: Uint8Array, variableData: Uint8Array, hashType = 1): Uint8Array {
  const bytes = new Uint8Array(Math.max(2600, 0x4d4 + variableData.length))
  const view = new DataView(bytes.buffer)
  view.setUint32(0x00, 0x414c4348, true)
  view.setUint32(0x04, 2, true)
  view.setUint32(0x08, REPORT_SIZE, true)
  view.setUint32(0x0c, 2, true)
  bytes.set(report, 0x20)
  view.setUint32(0x4c0, 20 + variableData.length, true)
  view.setUint32(0x4c4, 1, true)
  view.setUint32(0x4c8, 2, true)
  view.setUint32(0x4cc, hashType, true)
  view.setUint32(0x4d0, variableData.length, true)
  bytes.set(variableData, 0x4d4)
  return bytes
}
