/**
 * `confide ratls serve` and `confide ratls connect URL`: an HTTPS server that presents an RA-TLS
 * certificate, and a client that verifies one before sending its request, for trying RA-TLS by
 * hand.
 *
 * @module
 */
import { once } from 'node:events'
import { createServer, request, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Command } from 'commander'
import { parsePolicy } from '../appraisal/policy.js'
import { createAttester, detectAttester } from '../attest/detect.js'
import { loadCollateralDirectory } from '../collateral/directory.js'
import { readBoundedFile } from '../collateral/read-file.js'
import { ConfigError } from '../core/errors.js'
import { loadSimKey } from '../platforms/sim/dev-key.js'
import { createRatlsCertificate } from '../ratls/certificate.js'
import { RatlsAgent, RatlsPeerRejectedError, ratlsServerOptions } from '../ratls/tls.js'
import type { RatlsVerdict, VerifyRatlsOptions } from '../ratls/verify.js'
import type { VerifyEvidenceOptions } from '../verify.js'
import { EXIT } from './exit-codes.js'
import { sortTrustFile, type TrustInputs } from './trust.js'

/** Largest policy or trust file read. */
const MAX_FILE_SIZE = 1024 * 1024
/** Largest response body `connect` prints. */
const MAX_BODY_SIZE = 1024 * 1024

interface ServeFlags {
  readonly port: string
  readonly host: string
  readonly attester?: string
  readonly encoding: string
  readonly validityDays: string
}

interface ConnectFlags {
  readonly policy?: string
  readonly trust?: readonly string[]
  readonly collateral?: string
  readonly allowDebug?: boolean
  readonly maxAge?: string
  readonly json?: boolean
}

function positiveInteger(text: string, option: string, allowZero = false): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    const least = allowZero ? 0 : 1
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `${option} must be a whole number of at least ${least}, not ${text}`,
    )
  }

  return value
}

/** A running `ratls serve`: its URL and how to stop it. */
export interface RatlsServe {
  readonly server: Server
  readonly url: string
  close(): Promise<void>
}

/**
 * Starts the server of `confide ratls serve`: creates an RA-TLS certificate with the named (or
 * detected) attester and responds to every HTTPS request with a short JSON document.
 *
 * @throws ConfigError for bad flags; AttestError when no attester is available.
 */
export async function startRatlsServe(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RatlsServe> {
  const port = positiveInteger(flags.port, '--port', true)
  if (flags.encoding !== 'tcg-dice' && flags.encoding !== 'gramine') {
    throw new ConfigError('ERR_CONFIG_INVALID', '--encoding must be tcg-dice or gramine')
  }
  const attester =
    flags.attester === undefined
      ? await detectAttester({ env })
      : await createAttester(flags.attester, { env })
  const credentials = await createRatlsCertificate({
    attester,
    encoding: flags.encoding,
    validityDays: positiveInteger(flags.validityDays, '--validity-days'),
    hostnames: [flags.host],
  })
  const body = JSON.stringify({
    message: 'hello from an RA-TLS server',
    platform: attester.platform,
    encoding: flags.encoding,
  })
  const server = createServer(ratlsServerOptions(credentials), (_request, response) => {
    response.setHeader('content-type', 'application/json')
    response.end(`${body}\n`)
  })
  server.listen(port, flags.host)
  await once(server, 'listening')
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    server,
    url: `https://${host}:${address.port}/`,
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

/** Trusts this machine's sim key, if it has one, so that `ratls serve --attester sim` verifies. */
async function localSimKey(env: NodeJS.ProcessEnv): Promise<Uint8Array[]> {
  try {
    return [(await loadSimKey({ create: false, env })).publicKeySpki]
  } catch (error) {
    if (error instanceof ConfigError && error.code === 'ERR_CONFIG_KEY_NOT_FOUND') return []
    throw error
  }
}

async function peerOptions(
  flags: ConnectFlags,
  env: NodeJS.ProcessEnv,
): Promise<VerifyRatlsOptions> {
  const trust: TrustInputs = { anchors: [], keys: await localSimKey(env) }
  for (const path of flags.trust ?? []) {
    sortTrustFile(path, await readBoundedFile(path, 'trust file', MAX_FILE_SIZE), trust)
  }
  const verify: { -readonly [K in keyof VerifyEvidenceOptions]: VerifyEvidenceOptions[K] } = {}
  if (trust.anchors.length > 0) verify.trustAnchors = trust.anchors
  if (trust.keys.length > 0) verify.trustedKeys = trust.keys
  if (flags.allowDebug === true) verify.allowDebug = true
  if (flags.collateral !== undefined)
    verify.collateral = await loadCollateralDirectory(flags.collateral)
  const policy =
    flags.policy === undefined
      ? undefined
      : parsePolicy(
          new TextDecoder().decode(
            await readBoundedFile(flags.policy, '--policy file', MAX_FILE_SIZE),
          ),
        )

  return {
    verify,
    ...(policy === undefined ? {} : { policy }),
    ...(flags.maxAge === undefined
      ? {}
      : { maxEvidenceAgeSeconds: positiveInteger(flags.maxAge, '--max-age') }),
  }
}

function get(url: URL, agent: RatlsAgent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
        if (body.length > MAX_BODY_SIZE) response.destroy(new Error('the response is too large'))
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      response.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const MARK = { pass: 'pass', fail: 'FAIL', skipped: 'skip' } as const

function formatVerdict(url: string, verdict: RatlsVerdict): string {
  const width = Math.max(...verdict.checks.map((c) => c.name.length), 0)
  const lines = verdict.checks.map((c) => {
    const code = c.code === undefined ? '' : ` [${c.code}]`
    return `  ${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}${code}`
  })
  const outcome = verdict.accepted ? 'accepted' : `REJECTED: ${verdict.reason}`

  return `${url}: RA-TLS peer judged at ${verdict.verifiedAt}\n\n${lines.join('\n')}\n\n${'peer'.padEnd(12)}${outcome}\n`
}

function exitCodeOf(verdict: RatlsVerdict): number {
  if (verdict.accepted) return EXIT.VALID
  return verdict.verdict === 'indeterminate' ? EXIT.INDETERMINATE : EXIT.INVALID
}

/**
 * Runs `confide ratls connect`: verifies the server's RA-TLS certificate, then sends a GET and
 * prints the verdict and the response body. Returns the exit code: 0 when the server is accepted,
 * 1 when it is rejected, 3 when its evidence could not be judged.
 */
export async function runRatlsConnect(
  target: string,
  flags: ConnectFlags,
  out: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const url = new URL(target)
  if (url.protocol !== 'https:') {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `the URL must start with https://, not ${url.protocol}`,
    )
  }
  let verdict: RatlsVerdict | undefined
  const peer = await peerOptions(flags, env)
  if (peer.policy === undefined)
    process.stderr.write(
      'confide: no --policy, so any measurement is accepted, a simulated TEE included\n',
    )
  const agent = new RatlsAgent(peer, {
    onVerdict: (result) => {
      verdict = result
    },
  })
  try {
    const response = await get(url, agent)
    if (verdict === undefined) throw new Error('the connection was not verified')
    if (flags.json === true) out(`${JSON.stringify({ verdict, response })}\n`)
    else
      out(
        `${formatVerdict(url.href, verdict)}${'response'.padEnd(12)}${response.status}\n\n${response.body}`,
      )
    return EXIT.VALID
  } catch (error) {
    if (!(error instanceof RatlsPeerRejectedError)) throw error
    if (flags.json === true) out(`${JSON.stringify({ verdict: error.verdict })}\n`)
    else out(formatVerdict(url.href, error.verdict))
    return exitCodeOf(error.verdict)
  } finally {
    agent.destroy()
  }
}

/** Adds `ratls serve` and `ratls connect` to the program. */
export function registerRatls(program: Command, setExitCode: (code: number) => void): void {
  const ratls = program
    .command('ratls')
    .description('RA-TLS: TLS certificates that carry attestation evidence for their key')
  ratls
    .command('serve')
    .description('serve HTTPS with an RA-TLS certificate until interrupted')
    .option('--port <port>', 'TCP port (0 picks a free one)', '8443')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--attester <kind>',
      'where the evidence comes from: tsm (configfs-tsm), gramine, or sim (the simulated TEE, development only); default: detected, never sim',
    )
    .option('--encoding <encoding>', 'evidence extension: tcg-dice or gramine', 'tcg-dice')
    .option('--validity-days <days>', 'days until the certificate expires', '1')
    .action(async (flags: ServeFlags) => {
      const serve = await startRatlsServe(flags)
      process.stderr.write(`confide ratls: serving ${serve.url} (stop with Ctrl-C)\n`)
      process.stdout.write(`${serve.url}\n`)
      await new Promise<void>((resolve) => {
        const stop = () => {
          serve.close().then(resolve, resolve)
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      setExitCode(EXIT.VALID)
    })
  ratls
    .command('connect')
    .description("verify an RA-TLS server's certificate, then send it a GET request")
    .argument('<url>', 'https URL of the server')
    .option('--policy <file>', 'appraise the evidence under this policy (JSON or YAML)')
    .option(
      '--trust <file>',
      "trusted roots or public keys, as PEM or DER (this machine's sim key is always trusted); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--collateral <dir>', 'directory of collateral files for the evidence')
    .option('--allow-debug', 'accept a TEE in debug mode (its memory is readable by the host)')
    .option(
      '--max-age <seconds>',
      'maximum age of the evidence; evidence without a creation time then fails to verify (default: one day, for evidence with a creation time)',
    )
    .option('--json', 'print the verdict and response as one JSON object')
    .action(async (url: string, flags: ConnectFlags) => {
      setExitCode(await runRatlsConnect(url, flags, (text) => process.stdout.write(text)))
    })
}
