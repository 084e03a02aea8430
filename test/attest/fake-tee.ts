/**
 * Fake TEE interfaces in a temporary folder: a configfs-tsm "kernel" that creates a report entry's
 * attribute files on mkdir and fills `outblob` when `inblob` is written, and a Gramine
 * `/dev/attestation` folder. They replay evidence captured on real machines.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { AttestFileSystem } from '../../src/attest/attester.js'
import { TSM_REPORT_FOLDER } from '../../src/attest/configfs-tsm.js'
import { GRAMINE_ATTESTATION_FOLDER } from '../../src/attest/gramine.js'
import { concatBytes, decodePem, fromHex } from '../../src/core/bytes.js'
import { SNP_TABLE_GUIDS, type SnpTableEntryKind } from '../../src/platforms/snp/index.js'

/** Creates an empty temporary folder to act as the file system root. */
export function scratchRoot(): string {
  return mkdtempSync(join(tmpdir(), 'confide-attest-'))
}

function systemError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: fake kernel, ${path}`), { code })
}

export interface FakeTsmOptions {
  /** Name in `provider`. Absent: mkdir fails with ENXIO, as with no TEE driver. */
  readonly provider?: string
  readonly outblob?: Uint8Array
  readonly auxblob?: Uint8Array
  /** Value of `privlevel_floor`. Absent: the attribute does not exist. */
  readonly privlevelFloor?: number
  /** Extra generation steps another writer adds on the n-th inblob write (1-based). */
  readonly racer?: (write: number) => number
}

/** A configfs-tsm report folder under `root` with a fake kernel behind it. */
export class FakeTsm implements AttestFileSystem {
  readonly folder: string
  readonly inblobs: Uint8Array[] = []
  readonly privlevels: string[] = []
  entriesCreated = 0
  readonly #options: FakeTsmOptions

  constructor(root: string, options: FakeTsmOptions) {
    this.folder = join(root, TSM_REPORT_FOLDER)
    mkdirSync(this.folder, { recursive: true })
    this.#options = options
  }

  async mkdir(path: string): Promise<void> {
    if (dirname(path) !== this.folder) return mkdir(path)
    const { provider, privlevelFloor, auxblob } = this.#options
    if (provider === undefined) throw systemError('ENXIO', path)
    await mkdir(path)
    this.entriesCreated += 1
    await writeFile(join(path, 'provider'), `${provider}\n`)
    await writeFile(join(path, 'generation'), '0\n')
    await writeFile(join(path, 'inblob'), '')
    await writeFile(join(path, 'outblob'), '')
    if (auxblob !== undefined) await writeFile(join(path, 'auxblob'), '')
    if (privlevelFloor !== undefined) {
      await writeFile(join(path, 'privlevel_floor'), `${privlevelFloor}\n`)
      await writeFile(join(path, 'privlevel'), '')
    }
  }

  rmdir(path: string): Promise<void> {
    return rm(path, { recursive: true })
  }

  async readFile(path: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(path))
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const entry = dirname(path)
    const name = basename(path)
    await writeFile(path, data)
    if (name !== 'inblob' && name !== 'privlevel') return
    let steps = 1
    if (name === 'privlevel') this.privlevels.push(new TextDecoder().decode(data))
    if (name === 'inblob') {
      this.inblobs.push(new Uint8Array(data))
      steps += this.#options.racer?.(this.inblobs.length) ?? 0
      await writeFile(join(entry, 'outblob'), this.#options.outblob ?? new Uint8Array(0))
      if (this.#options.auxblob !== undefined) {
        await writeFile(join(entry, 'auxblob'), this.#options.auxblob)
      }
    }
    const generation = Number(readFileSync(join(entry, 'generation'), 'utf8'))
    await writeFile(join(entry, 'generation'), `${generation + steps}\n`)
  }
}

/**
 * Builds a `/dev/attestation` folder under `root` with plain files: the quote is there before any
 * report data is written, which is all a replayed quote needs.
 */
export function fakeGramine(root: string, type: string, quote?: Uint8Array): string {
  const folder = join(root, GRAMINE_ATTESTATION_FOLDER)
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, 'attestation_type'), `${type}\n`)
  writeFileSync(join(folder, 'user_report_data'), '')
  if (quote !== undefined) writeFileSync(join(folder, 'quote'), quote)
  return folder
}

const ENTRY_SIZE = 24

/**
 * Builds an SEV-SNP certificate table, as the host supplies it in `auxblob`, from DER
 * certificates by kind.
 */
export function certificateTable(entries: readonly [SnpTableEntryKind, Uint8Array][]): Uint8Array {
  const headerSize = (entries.length + 1) * ENTRY_SIZE
  const header = new Uint8Array(headerSize)
  const view = new DataView(header.buffer)
  let offset = headerSize
  entries.forEach(([kind, der], index) => {
    header.set(fromHex(SNP_TABLE_GUIDS[kind].replaceAll('-', '')), index * ENTRY_SIZE)
    view.setUint32(index * ENTRY_SIZE + 16, offset, true)
    view.setUint32(index * ENTRY_SIZE + 20, der.length, true)
    offset += der.length
  })

  return concatBytes(header, ...entries.map(([, der]) => der))
}

/** Reads the DER certificates of a PEM file in order. */
export function pemCertificates(path: string): Uint8Array[] {
  return decodePem(readFileSync(path, 'utf8')).map((block) => block.der)
}
