/**
 * The service's key files: the EAR signing key and the admin public keys. A key file the operator
 * names must exist. A default key file is created on first start, PKCS#8 PEM with mode 0600, in
 * the folder of the store (the user's XDG data folder unless configured otherwise). Node only.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { dirname, join } from 'node:path'
import { calculateJwkThumbprint } from 'jose'
import type { EarSigningKey } from '../appraisal/ear.js'
import { earSignerJwk } from '../appraisal/jwks.js'
import { decodePem } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'
import { createFileOnce, readKeyFile } from '../crypto/key-file.js'
import { defaultStoreLocation, isStoreFile } from '../store/location.js'

/** File names of the default keys in the key folder. */
export const SIGNING_KEY_FILE = 'ear-signing-key.pem'
export const MASTER_KEY_FILE = 'master-key'

/** Returns the folder of the default keys: the store file's folder, else the default store's. */
export function keyFolder(store: string, env: NodeJS.ProcessEnv = process.env): string {
  return dirname(isStoreFile(store) ? store : defaultStoreLocation(env))
}

/** An EAR signing key with where it lives. */
export interface LoadedSigningKey {
  readonly signer: EarSigningKey
  readonly path: string
  /** Whether this start created the file. */
  readonly created: boolean
}

function algorithmOf(key: KeyObject, path: string): 'ES256' | 'EdDSA' {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ES256'
  throw new ConfigError(
    'ERR_CONFIG_INVALID',
    `the EAR signing key ${path} is not an EC P-256 or Ed25519 private key`,
  )
}

async function signerOf(pem: Buffer, path: string): Promise<EarSigningKey> {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem' })
  } catch (error) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `the EAR signing key ${path} is not a PEM private key`,
      { cause: error },
    )
  }
  const alg = algorithmOf(key, path)
  const jwk = await earSignerJwk(key, alg)

  return { key, alg, kid: await calculateJwkThumbprint(jwk), jwk }
}

/**
 * Loads the EAR signing key (EC P-256 or Ed25519, PKCS#8 PEM). A `given` path must exist;
 * without one, `<folder>/ear-signing-key.pem` is read, or created with a new P-256 key.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a missing given file or one that is not a key.
 */
export async function loadSigningKey(
  given: string | undefined,
  folder: string,
): Promise<LoadedSigningKey> {
  const path = given ?? join(folder, SIGNING_KEY_FILE)
  const existing = await readKeyFile(path, 'EAR signing key')
  if (existing !== undefined)
    return { signer: await signerOf(existing, path), path, created: false }
  if (given !== undefined)
    throw new ConfigError('ERR_CONFIG_INVALID', `the EAR signing key ${path} does not exist`)
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = await createFileOnce(path, privateKey.export({ type: 'pkcs8', format: 'pem' }))

  return { signer: await signerOf(pem, path), path, created: true }
}

/** Reads Ed25519 public keys from PEM text: PUBLIC KEY blocks, or PRIVATE KEY blocks whose public half is taken. */
export function parseAdminKeys(pem: string, source: string): KeyObject[] {
  const blocks = decodePem(pem)
  if (blocks.length === 0)
    throw new ConfigError('ERR_CONFIG_INVALID', `the admin key ${source} contains no PEM block`)
  return blocks.map((block) => {
    let key: KeyObject
    try {
      key =
        block.label === 'PRIVATE KEY'
          ? createPublicKey(
              createPrivateKey({ key: Buffer.from(block.der), format: 'der', type: 'pkcs8' }),
            )
          : createPublicKey({ key: Buffer.from(block.der), format: 'der', type: 'spki' })
    } catch (error) {
      throw new ConfigError(
        'ERR_CONFIG_INVALID',
        `the admin key ${source} has a ${block.label} block that is not a key`,
        { cause: error },
      )
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new ConfigError(
        'ERR_CONFIG_INVALID',
        `the admin key ${source} is a ${key.asymmetricKeyType} key; admin tokens are Ed25519 (EdDSA)`,
      )
    return key
  })
}

/**
 * Loads the admin public keys: from `given` (a file), else from `CONFIDE_ADMIN_KEY`, which contains
 * either PEM text or a file path. Returns an empty list when neither is set.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a missing file or one without Ed25519 keys.
 */
export async function loadAdminKeys(
  given: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ keys: KeyObject[]; source?: string }> {
  const configured = env.CONFIDE_ADMIN_KEY
  if (given === undefined && configured !== undefined && configured.includes('-----BEGIN'))
    return { keys: parseAdminKeys(configured, 'in CONFIDE_ADMIN_KEY'), source: 'CONFIDE_ADMIN_KEY' }
  const path = given ?? (configured === '' ? undefined : configured)
  if (path === undefined) return { keys: [] }
  const bytes = await readKeyFile(path, 'admin key')
  if (bytes === undefined)
    throw new ConfigError('ERR_CONFIG_INVALID', `the admin key ${path} does not exist`)

  return { keys: parseAdminKeys(bytes.toString('utf8'), path), source: path }
}
