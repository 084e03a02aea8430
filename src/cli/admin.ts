/**
 * `confide admin`: tools for the service's admin API. `admin keygen` writes an Ed25519 key pair;
 * `admin token` mints a short-lived admin JWT with the private key, to send as
 * `Authorization: Bearer <token>`.
 *
 * @module
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { readBoundedFile } from '../collateral/read-file.js'
import { ConfigError } from '../core/errors.js'
import { MAX_ADMIN_TOKEN_LIFETIME_SECONDS } from '../server/admin-auth.js'
import { mintAdminToken } from '../server/admin-token.js'
import { EXIT } from './exit-codes.js'

/** Largest key file read. */
const MAX_KEY_FILE_SIZE = 64 * 1024

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 }

/**
 * Reads a lifetime such as `900`, `900s`, `15m` or `1h` as seconds, from 1 s to one hour.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for another form or a value out of range.
 */
export function parseTtl(text: string): number {
  const match = /^(\d{1,6})([smh]?)$/.exec(text.trim())
  const seconds =
    match === null ? Number.NaN : Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_ADMIN_TOKEN_LIFETIME_SECONDS)
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `--ttl ${text} is not a lifetime from 1s to 1h, such as 900, 15m or 1h`,
    )

  return seconds
}

async function readPrivateKey(path: string): Promise<KeyObject> {
  const pem = await readBoundedFile(path, '--key file', MAX_KEY_FILE_SIZE)
  let key: KeyObject
  try {
    key = createPrivateKey({ key: Buffer.from(pem), format: 'pem' })
  } catch (error) {
    throw new ConfigError('ERR_CONFIG_INVALID', `--key ${path} is not a PEM private key`, {
      cause: error,
    })
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `--key ${path} is a ${key.asymmetricKeyType} key; admin tokens need an Ed25519 key (confide admin keygen)`,
    )

  return key
}

/** Writes a new Ed25519 key pair: the private key to `path` (mode 0600), the public key to `path.pub`. */
async function writeKeyPair(path: string): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const publicPath = `${path}.pub`
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
    flag: 'wx',
  }).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `cannot write ${path}: ${error.code ?? error.message}`,
    )
  })
  await writeFile(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' })

  return publicPath
}

/** Adds `admin keygen` and `admin token` to the program. */
export function registerAdmin(program: Command, setExitCode: (code: number) => void): void {
  const admin = program
    .command('admin')
    .description('keys and tokens for the admin API of confide serve')
  admin
    .command('keygen')
    .description('write a new Ed25519 admin key pair: FILE (private, mode 0600) and FILE.pub')
    .requiredOption('--out <file>', 'where to write the private key; never overwritten')
    .action(async (flags: { out: string }) => {
      const publicPath = await writeKeyPair(flags.out)
      process.stderr.write(
        `wrote ${flags.out} (private) and ${publicPath}; start the server with --admin-key ${publicPath}\n`,
      )
      setExitCode(EXIT.VALID)
    })
  admin
    .command('token')
    .description('print a short-lived admin token (JWT) for Authorization: Bearer <token>')
    .requiredOption('--key <file>', 'Ed25519 private key, PEM (from confide admin keygen)')
    .option(
      '--ttl <time>',
      'token lifetime: seconds, or a number with s, m or h, at most 1h',
      '15m',
    )
    .option(
      '--subject <name>',
      'token subject (sub), recorded with each admin write (default: the login name)',
    )
    .action(async (flags: { key: string; ttl: string; subject?: string }) => {
      const key = await readPrivateKey(flags.key)
      const token = await mintAdminToken(key, {
        ttlSeconds: parseTtl(flags.ttl),
        ...(flags.subject === undefined ? {} : { subject: flags.subject }),
      })
      process.stdout.write(`${token}\n`)
      setExitCode(EXIT.VALID)
    })
}
