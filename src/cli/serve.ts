/**
 * `confide serve`: runs the verifier API and key broker until SIGTERM or SIGINT.
 *
 * @module
 */
import type { Command } from 'commander'
import { readBoundedFile } from '../collateral/read-file.js'
import { ConfigError } from '../core/errors.js'
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMIT,
} from '../server/defaults.js'
import { EXIT } from './exit-codes.js'
import { sortTrustFile, type TrustInputs } from './trust.js'

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

interface ServeFlags {
  readonly port: string
  readonly host: string
  readonly store?: string
  readonly tlsCert?: string
  readonly tlsKey?: string
  readonly adminKey?: string
  readonly masterKeyFile?: string
  readonly signingKey?: string
  readonly offline?: boolean
  readonly bodyLimit: string
  readonly rateLimit: string
  readonly logLevel: string
  readonly trustTpmKey?: readonly string[]
  readonly trustCcaKey?: readonly string[]
}

/** Largest key file read. */
const MAX_KEY_FILE_SIZE = 64 * 1024

/**
 * Reads the files of a trusted-key flag as public keys. A certificate is rejected: the service
 * keeps the vendor roots pinned, since a root given here would replace them for every platform.
 */
async function readTrustedKeys(paths: readonly string[], flag: string): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = []
  for (const path of paths) {
    const trust: TrustInputs = { anchors: [], keys: [] }
    sortTrustFile(path, await readBoundedFile(path, `${flag} file`, MAX_KEY_FILE_SIZE), trust)
    if (trust.anchors.length > 0)
      throw new ConfigError(
        'ERR_CONFIG_INVALID',
        `${flag} ${path} contains a certificate; give the public key only (the service keeps the vendor roots pinned)`,
      )
    keys.push(...trust.keys)
  }

  return keys
}

function integer(text: string, flag: string, minimum: number, maximum: number): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < minimum || value > maximum)
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `${flag} ${text} is not an integer from ${minimum} to ${maximum}`,
    )

  return value
}

/** Adds `serve` to the program. */
export function registerServe(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('serve')
    .description(
      'run the verifier API (/v1), the Trustee KBS protocol (/kbs/v0), metrics and OpenAPI docs (/docs)',
    )
    .option('--port <n>', 'TCP port', String(DEFAULT_PORT))
    .option('--host <address>', 'listen address; 0.0.0.0 for every interface', DEFAULT_HOST)
    .option(
      '--store <location>',
      'SQLite file or postgres:// URL (default: CONFIDE_STORE, else confide.db in the XDG data folder)',
    )
    .option('--tls-cert <file>', 'TLS certificate chain, PEM (with --tls-key)')
    .option('--tls-key <file>', 'TLS private key, PEM (with --tls-cert)')
    .option(
      '--admin-key <file>',
      'Ed25519 public key(s), PEM, that may sign admin tokens (default: CONFIDE_ADMIN_KEY; none: admin routes answer 401)',
    )
    .option(
      '--master-key-file <file>',
      'key that encrypts KBS resources at rest: 32 bytes, hex or base64 (default: CONFIDE_MASTER_KEY, else master-key beside the store, created on first start)',
    )
    .option(
      '--signing-key <file>',
      'EC P-256 or Ed25519 private key, PEM, that signs EARs (default: ear-signing-key.pem beside the store, created on first start)',
    )
    .option(
      '--offline',
      'never fetch collateral from vendor services; use the cache and request files',
    )
    .option(
      '--body-limit <bytes>',
      'largest request body accepted, in bytes',
      String(DEFAULT_BODY_LIMIT),
    )
    .option(
      '--rate-limit <n>',
      'requests per minute per client address on /v1/verify, /v1/appraise, /kbs/v0/auth and /kbs/v0/attest',
      String(DEFAULT_RATE_LIMIT.max),
    )
    .option(
      '--trust-tpm-key <file>',
      'TPM attestation key trusted for TPM evidence only, PEM or DER; repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--trust-cca-key <file>',
      'Arm CCA platform attestation key trusted for CCA evidence only, PEM or DER; repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error or fatal', 'info')
    .action(async (flags: ServeFlags) => {
      if (!LOG_LEVELS.includes(flags.logLevel))
        throw new ConfigError(
          'ERR_CONFIG_INVALID',
          `--log-level ${flags.logLevel} is not one of ${LOG_LEVELS.join(', ')}`,
        )
      const tpm = await readTrustedKeys(flags.trustTpmKey ?? [], '--trust-tpm-key')
      const cca = await readTrustedKeys(flags.trustCcaKey ?? [], '--trust-cca-key')
      // Loaded here, so that other commands do not load Fastify and the broker.
      const { startServer } = await import('../server/start.js')
      const running = await startServer({
        port: integer(flags.port, '--port', 0, 65535),
        host: flags.host,
        bodyLimit: integer(flags.bodyLimit, '--body-limit', 1024, 1024 * 1024 * 1024),
        rateLimit: {
          max: integer(flags.rateLimit, '--rate-limit', 1, 1_000_000_000),
          timeWindowMs: 60_000,
        },
        logger: { level: flags.logLevel },
        ...(flags.store === undefined ? {} : { store: flags.store }),
        ...(flags.tlsCert === undefined ? {} : { tlsCert: flags.tlsCert }),
        ...(flags.tlsKey === undefined ? {} : { tlsKey: flags.tlsKey }),
        ...(flags.adminKey === undefined ? {} : { adminKey: flags.adminKey }),
        ...(flags.masterKeyFile === undefined ? {} : { masterKeyFile: flags.masterKeyFile }),
        ...(flags.signingKey === undefined ? {} : { signingKey: flags.signingKey }),
        ...(flags.offline === true ? { offline: true } : {}),
        trustedKeys: { tpm, cca },
      })
      running.app.log.info({ url: running.url, docs: `${running.url}/docs` }, 'listening')
      await running.closed
      setExitCode(EXIT.VALID)
    })
}
