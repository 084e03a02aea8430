/**
 * The local signing key of the simulated TEE: an Ed25519 key kept as a PKCS#8 PEM file in the
 * user's data folder, created on first use. Node only.
 *
 * @module
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { ConfigError } from '../../core/errors.js'
import { createFileOnce, readKeyFile } from '../../crypto/key-file.js'

/** The simulated TEE's signing key and where it is kept. */
export interface SimKey {
  readonly privateKey: KeyObject
  /** The public key as DER SubjectPublicKeyInfo, the form `trustedKeys` takes. */
  readonly publicKeySpki: Uint8Array
  /** Lower-case hex SHA-256 of `publicKeySpki`, the `keyId` of the evidence it signs. */
  readonly keyId: string
  /** The PEM file the key was read from or written to. */
  readonly path: string
}

/** The key file's location and whether to create it. */
export interface LoadSimKeyOptions {
  /** The key file. Absent: `$CONFIDE_SIM_KEY`, else `simKeyLocation(env)`. */
  readonly path?: string
  /** Environment to read `CONFIDE_SIM_KEY` and `XDG_DATA_HOME` from. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv
  /** Create the key when the file does not exist. Default: true. */
  readonly create?: boolean
}

/**
 * Returns the default key file: `$XDG_DATA_HOME/confide/sim-key.pem`, or
 * `~/.local/share/confide/sim-key.pem` when XDG_DATA_HOME is unset or not an absolute path.
 */
export function simKeyLocation(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome = env.XDG_DATA_HOME
  const base =
    dataHome !== undefined && isAbsolute(dataHome) ? dataHome : join(homedir(), '.local', 'share')
  return join(base, 'confide', 'sim-key.pem')
}

function simKeyFrom(privateKey: KeyObject, path: string): SimKey {
  const publicKeySpki = new Uint8Array(
    createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
  )
  const keyId = createHash('sha256').update(publicKeySpki).digest('hex')

  return { privateKey, publicKeySpki, keyId, path }
}

/** Reads the key file; returns undefined when it does not exist. */
async function readKey(path: string): Promise<SimKey | undefined> {
  const pem = await readKeyFile(path, 'sim key')
  if (pem === undefined) return undefined

  return simKeyFromPem(pem, path)
}

/** Decodes a PEM Ed25519 private key. */
function simKeyFromPem(pem: Buffer, path: string): SimKey {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' })
  } catch (error) {
    const message = `the sim key ${path} is not a PEM private key; remove it to create a new one`
    throw new ConfigError('ERR_CONFIG_INVALID', message, { cause: error })
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    const message = `the sim key ${path} is a ${privateKey.asymmetricKeyType} key, not Ed25519`
    throw new ConfigError('ERR_CONFIG_INVALID', message)
  }

  return simKeyFrom(privateKey, path)
}

/**
 * Creates the key file unless it exists. Of two processes creating the key at once, one key wins
 * and the other process reads it (`createFileOnce`).
 */
async function createKey(path: string): Promise<SimKey> {
  const { privateKey } = generateKeyPairSync('ed25519')
  const pem = await createFileOnce(path, privateKey.export({ type: 'pkcs8', format: 'pem' }))

  return simKeyFromPem(pem, path)
}

/**
 * Loads the simulated TEE's signing key, creating it on first use unless `create` is false. The
 * file is PKCS#8 PEM with mode 0600 in a folder created with mode 0700. The mode of an existing
 * file is not checked.
 *
 * @throws ConfigError `ERR_CONFIG_KEY_NOT_FOUND` when the file does not exist and `create` is
 *   false; `ERR_CONFIG_INVALID` when the file is unreadable or not an Ed25519 private key.
 */
export async function loadSimKey(options: LoadSimKeyOptions = {}): Promise<SimKey> {
  const env = options.env ?? process.env
  const configured = env.CONFIDE_SIM_KEY
  const path =
    options.path ??
    (configured !== undefined && configured !== '' ? configured : simKeyLocation(env))
  const existing = await readKey(path)
  if (existing !== undefined) return existing
  if (options.create === false) {
    const message = `no sim key at ${path}; the sim attester creates it on first use`
    throw new ConfigError('ERR_CONFIG_KEY_NOT_FOUND', message)
  }
  try {
    return await createKey(path)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError('ERR_CONFIG_INVALID', `cannot create the sim key ${path}`, {
      cause: error,
    })
  }
}
