/**
 * AMD EPYC products that run SEV-SNP, how a report names its product, and the TCB_VERSION layout
 * each product uses.
 *
 * TCB_VERSION is 8 bytes of security patch levels (SPLs). Milan and Genoa put the bootloader SPL
 * in byte 0, TEE in byte 1, SNP firmware in byte 6 and microcode in byte 7. Turin adds an FMC SPL
 * in byte 0 and moves bootloader, TEE and SNP to bytes 1 to 3. The bytes between are reserved.
 *
 * Each SPL is also certified by an extension of the VCEK (or VLEK) that AMD's KDS issues, under
 * OID 1.3.6.1.4.1.3704.1.3.n. The OIDs here are the ones found in KDS certificates for Milan,
 * Genoa and Turin.
 *
 * @see AMD, "SEV Secure Nested Paging Firmware ABI Specification" (publication 56860), TCB_VERSION.
 * @module
 */

/** Products with an AMD root key (ARK) pinned in confide, by their AMD KDS names. */
export const SNP_PRODUCTS = ['Milan', 'Genoa', 'Turin'] as const

export type SnpProduct = (typeof SNP_PRODUCTS)[number]

/** Named security patch levels of one TCB_VERSION. `fmc` exists on Turin only. */
export interface TcbComponents {
  readonly bootloader: number
  readonly tee: number
  readonly snp: number
  readonly microcode: number
  readonly fmc?: number
}

export type TcbComponentName = keyof TcbComponents

/** One byte of a TCB_VERSION layout and the VCEK extension that certifies it. */
export interface TcbByte {
  /** Component name, or `reserved` for a byte that must be zero. */
  readonly name: TcbComponentName | 'reserved'
  /** Name of the VCEK extension for this component, as AMD's KDS calls it. */
  readonly extension: string
  /** OID of that extension. */
  readonly oid: string
}

const SPL = '1.3.6.1.4.1.3704.1.3'

const bootloader = { name: 'bootloader', extension: 'blSPL', oid: `${SPL}.1` } as const
const tee = { name: 'tee', extension: 'teeSPL', oid: `${SPL}.2` } as const
const snp = { name: 'snp', extension: 'snpSPL', oid: `${SPL}.3` } as const
const microcode = { name: 'microcode', extension: 'ucodeSPL', oid: `${SPL}.8` } as const
const fmc = { name: 'fmc', extension: 'fmcSPL', oid: `${SPL}.9` } as const

function reserved(arc: number): TcbByte {
  return { name: 'reserved', extension: `spl_${arc}`, oid: `${SPL}.${arc}` }
}

/** TCB_VERSION of Milan and Genoa, byte 0 first. */
export const MILAN_GENOA_TCB: readonly TcbByte[] = [
  bootloader,
  tee,
  reserved(4),
  reserved(5),
  reserved(6),
  reserved(7),
  snp,
  microcode,
]

/** TCB_VERSION of Turin, byte 0 first. */
export const TURIN_TCB: readonly TcbByte[] = [
  fmc,
  bootloader,
  tee,
  snp,
  reserved(5),
  reserved(6),
  reserved(7),
  microcode,
]

/** Returns the TCB_VERSION layout of a product. */
export function tcbLayout(product: SnpProduct): readonly TcbByte[] {
  return product === 'Turin' ? TURIN_TCB : MILAN_GENOA_TCB
}

/** Decodes the 8 bytes of a TCB_VERSION in the layout of `product`, skipping reserved bytes. */
export function decodeTcb(bytes: Uint8Array, product: SnpProduct): TcbComponents {
  const values: Partial<Record<TcbComponentName, number>> = {}
  tcbLayout(product).forEach((entry, index) => {
    if (entry.name !== 'reserved') values[entry.name] = bytes[index] ?? 0
  })
  return {
    bootloader: values.bootloader ?? 0,
    tee: values.tee ?? 0,
    snp: values.snp ?? 0,
    microcode: values.microcode ?? 0,
    ...(values.fmc === undefined ? {} : { fmc: values.fmc }),
  }
}

/**
 * Returns the product of a CPUID family and model (the combined extended and base values that a
 * version 3 or later report carries), or undefined for a processor confide does not know.
 *
 * Family 19h models 00h-0Fh are Milan and 10h-1Fh are Genoa. Family 1Ah models 00h-1Fh are Turin.
 */
export function productFromCpuid(family: number, model: number): SnpProduct | undefined {
  // NOTE: other family 19h models that run SEV-SNP (Genoa-X, Bergamo, Siena) are not mapped, so
  // their reports fail the product check until their KDS product name is confirmed.
  if (family === 0x19 && model <= 0x0f) return 'Milan'
  if (family === 0x19 && model >= 0x10 && model <= 0x1f) return 'Genoa'
  if (family === 0x1a && model <= 0x1f) return 'Turin'
  return undefined
}

/**
 * Returns the product a VCEK or VLEK product name denotes, with or without a stepping suffix
 * (`Milan-B0` and `Milan` both give `Milan`), or undefined for an unknown name.
 */
export function productFromName(name: string): SnpProduct | undefined {
  const base = name.replace(/-[A-Za-z0-9]+$/, '')
  return SNP_PRODUCTS.find((product) => product === base)
}
