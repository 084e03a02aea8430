/**
 * Picks the attester for this machine: configfs-tsm, then Gramine, then the simulated TEE when
 * the caller allows it.
 *
 * @module
 */
import { ConfigError } from '../core/errors.js'
import { loadSimKey, type SimKey } from '../platforms/sim/dev-key.js'
import { AttestError, type Attester, type AttestFileSystem } from './attester.js'
import { createTsmAttester, probeTsmProvider, TSM_REPORT_FOLDER } from './configfs-tsm.js'
import { createGramineAttester, GRAMINE_ATTESTATION_FOLDER, probeGramineType } from './gramine.js'
import { createSimAttester } from './sim.js'

/** Names of the attesters, as `--attester` takes them. */
export const ATTESTER_KINDS = ['tsm', 'gramine', 'sim'] as const
export type AttesterKind = (typeof ATTESTER_KINDS)[number]

export interface DetectAttesterOptions {
  /** Root of the file system to look in (default `/`). Tests point it at a fake tree. */
  readonly root?: string
  /** File operations (default the real file system). */
  readonly fileSystem?: AttestFileSystem
  /** Privilege level for configfs-tsm (see `createTsmAttester`). */
  readonly privlevel?: number
  /** Use the simulated TEE when the machine has no TEE (default false). */
  readonly allowSim?: boolean
  /** Key of the simulated TEE. Absent: `loadSimKey` finds or creates the local one. */
  readonly simKey?: SimKey
  /** Environment for `loadSimKey` (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv
}

/** Tells whether `name` is one of {@link ATTESTER_KINDS}. */
export function isAttesterKind(name: string): name is AttesterKind {
  return (ATTESTER_KINDS as readonly string[]).includes(name)
}

async function simAttester(options: DetectAttesterOptions): Promise<Attester> {
  const key =
    options.simKey ?? (await loadSimKey(options.env === undefined ? {} : { env: options.env }))
  return createSimAttester(key)
}

/**
 * Creates the named attester.
 *
 * @throws AttestError as `createTsmAttester` and `createGramineAttester` do.
 * @throws ConfigError `ERR_CONFIG_INVALID` for an unknown name.
 */
export async function createAttester(
  kind: string,
  options: DetectAttesterOptions = {},
): Promise<Attester> {
  const tsm = {
    ...(options.root === undefined ? {} : { root: options.root }),
    ...(options.fileSystem === undefined ? {} : { fileSystem: options.fileSystem }),
  }
  if (kind === 'tsm') {
    const privlevel = options.privlevel === undefined ? {} : { privlevel: options.privlevel }
    return createTsmAttester({ ...tsm, ...privlevel })
  }
  if (kind === 'gramine') return createGramineAttester(tsm)
  if (kind === 'sim') return simAttester(options)
  throw new ConfigError(
    'ERR_CONFIG_INVALID',
    `attester ${kind} is unknown; use one of ${ATTESTER_KINDS.join(', ')}`,
  )
}

/**
 * Returns the attester of this machine: configfs-tsm when a TEE driver provides it, else Gramine's
 * `/dev/attestation` with DCAP, else the simulated TEE when `allowSim` is true. Never picks the
 * simulated TEE on its own.
 *
 * @throws AttestError `ERR_ATTEST_UNAVAILABLE` when the machine has no TEE interface and the
 *   simulated TEE is not allowed; others as `createAttester` throws them.
 */
export async function detectAttester(options: DetectAttesterOptions = {}): Promise<Attester> {
  const paths = {
    ...(options.root === undefined ? {} : { root: options.root }),
    ...(options.fileSystem === undefined ? {} : { fileSystem: options.fileSystem }),
  }
  if ((await probeTsmProvider(paths)) !== undefined) return createAttester('tsm', options)
  const gramineType = await probeGramineType(paths)
  if (gramineType !== undefined && gramineType !== 'none') return createAttester('gramine', options)
  if (options.allowSim === true) return simAttester(options)

  throw new AttestError(
    'ERR_ATTEST_UNAVAILABLE',
    `no TEE attestation interface found: /${TSM_REPORT_FOLDER} has no provider and ` +
      `/${GRAMINE_ATTESTATION_FOLDER} does not exist. For development without a TEE, use the ` +
      'simulated TEE: pass --attester sim or set CONFIDE_ATTESTER=sim',
  )
}
