/**
 * Step 1 of the demo: a new temporary folder for everything the demo writes (the sim key, the
 * SQLite store, the service's keys, the output bundle), so it never touches the user's data
 * folder. Node only.
 *
 * @module
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadSimKey, type SimKey } from '../platforms/sim/dev-key.js'
import { type StepReport, type StopList, shortHex } from './context.js'

/** The demo's folder and the keys made in it. */
export interface Workspace {
  readonly folder: string
  /**
   * The environment the service reads instead of the process's: only `XDG_DATA_HOME`, inside
   * the folder, so no CONFIDE_* variable of the user's changes the demo.
   */
  readonly env: NodeJS.ProcessEnv
  readonly simKey: SimKey
  /** PEM file of the sim key's public half, for `confide verify-output --trust`. */
  readonly simPublicKeyFile: string
  /** The SQLite file of the service. */
  readonly store: string
  /** Signs the demo's admin tokens. */
  readonly adminKey: KeyObject
  /** PEM file of the admin public key, which the service loads. */
  readonly adminPublicKeyFile: string
}

/** Options of `createWorkspace`: the folder's location and whether to keep it. */
export interface WorkspaceOptions {
  /** Folder in which to make it. Default: the system's temporary folder. */
  readonly parent?: string
  /** Leave it in place at the end. Default: false, so its removal is added to `stops`. */
  readonly keep?: boolean
  readonly stops: StopList
  /** Receives the folder's path as soon as it exists. */
  readonly onFolder?: (folder: string) => void
}

/** Creates the folder, the sim key and an admin key pair in it. */
export async function createWorkspace(
  options: WorkspaceOptions,
): Promise<{ value: Workspace; report: StepReport }> {
  const folder = await realpath(await mkdtemp(join(options.parent ?? tmpdir(), 'confide-demo-')))
  options.onFolder?.(folder)
  if (options.keep !== true)
    options.stops.add('temporary folder', () => rm(folder, { recursive: true, force: true }))
  const dataHome = join(folder, 'data')
  const env = { XDG_DATA_HOME: dataHome }
  const simKey = await loadSimKey({ env, create: true })
  const simPublicKeyFile = join(folder, 'sim-key.pub')
  const simPublic = createPublicKey(simKey.privateKey).export({ type: 'spki', format: 'pem' })
  await writeFile(simPublicKeyFile, simPublic)

  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const adminPublicKeyFile = join(folder, 'admin-key.pem.pub')
  await writeFile(
    join(folder, 'admin-key.pem'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }),
    {
      mode: 0o600,
    },
  )
  await writeFile(adminPublicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }))
  const store = join(dataHome, 'confide', 'confide.db')
  const value = {
    folder,
    env,
    simKey,
    simPublicKeyFile,
    store,
    adminKey: privateKey,
    adminPublicKeyFile,
  }

  return {
    value,
    report: {
      summary: `temporary folder ${folder}`,
      details: [`sim key ${shortHex(simKey.keyId)} and an admin key, made for the demo`],
      data: { folder, simKeyId: simKey.keyId, simKey: simKey.path, store },
    },
  }
}
