/**
 * `confide verify-output BUNDLE`: checks an attested output offline (evidence, key binding,
 * signature, code claims, listed inputs) and prints every check or the JSON result.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Command } from 'commander'
import type { Policy } from '../appraisal/policy.js'
import { parsePolicy } from '../appraisal/policy.js'
import { loadCollateralDirectory } from '../collateral/directory.js'
import { readBoundedFile } from '../collateral/read-file.js'
import { fromHex } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'
import type { Check } from '../core/types.js'
import { parseOutputBundle } from '../outputs/bundle.js'
import { type OutputVerification, verifyOutput } from '../outputs/verify.js'
import { loadSimKey } from '../platforms/sim/dev-key.js'
import { sniffSimEvidence } from '../platforms/sim/format.js'
import type { VerifyEvidenceOptions } from '../verify.js'
import { EXIT } from './exit-codes.js'
import { parseTime } from './time.js'
import { sortTrustFile, type TrustInputs } from './trust.js'

/** Maximum bundle size in bytes. A bundle is evidence of a few KiB plus the document's result. */
const MAX_BUNDLE_SIZE = 64 * 1024 * 1024
/** Maximum size of a trust or policy file, in bytes. */
const MAX_DOCUMENT_SIZE = 4 * 1024 * 1024
/** Maximum size in bytes of an input file read to compute its digest. */
const MAX_INPUT_SIZE = 1024 * 1024 * 1024

interface VerifyOutputFlags {
  readonly trust?: readonly string[]
  readonly collateral?: string
  readonly policy?: string
  readonly input?: readonly string[]
  readonly inputDigest?: readonly string[]
  readonly at?: string
  readonly allowDebug?: boolean
  readonly json?: boolean
}

const collect = (value: string, previous: string[] = []) => [...previous, value]

async function verifyOptions(flags: VerifyOutputFlags): Promise<VerifyEvidenceOptions> {
  const options: { -readonly [K in keyof VerifyEvidenceOptions]: VerifyEvidenceOptions[K] } = {}
  if (flags.at !== undefined) options.at = parseTime(flags.at)
  if (flags.allowDebug === true) options.allowDebug = true
  if (flags.collateral !== undefined)
    options.collateral = await loadCollateralDirectory(flags.collateral)
  const trust: TrustInputs = { anchors: [], keys: [] }
  for (const path of flags.trust ?? []) {
    sortTrustFile(path, await readBoundedFile(path, 'trust file', MAX_DOCUMENT_SIZE), trust)
  }
  if (trust.anchors.length > 0) options.trustAnchors = trust.anchors
  if (trust.keys.length > 0) options.trustedKeys = trust.keys

  return options
}

/**
 * Adds this machine's sim key to the trusted keys when the evidence is the simulated TEE's, as
 * `confide verify` does. The key is loaded, never created.
 */
async function withSimKey(
  evidence: Uint8Array,
  options: VerifyEvidenceOptions,
): Promise<VerifyEvidenceOptions> {
  if (!sniffSimEvidence(evidence)) return options
  try {
    const key = await loadSimKey({ create: false })

    return { ...options, trustedKeys: [...(options.trustedKeys ?? []), key.publicKeySpki] }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    if (error.code !== 'ERR_CONFIG_KEY_NOT_FOUND')
      process.stderr.write(`confide: ${error.message}\n`)
    return options
  }
}

async function inputDigests(flags: VerifyOutputFlags): Promise<Uint8Array[]> {
  const digests = (flags.inputDigest ?? []).map((hex) => {
    const digest = fromHex(hex, `--input-digest ${hex}`)
    if (digest.length !== 32)
      throw new ConfigError('ERR_CONFIG_INVALID', `--input-digest ${hex} is not 32 bytes of hex`)
    return digest
  })
  for (const path of flags.input ?? []) {
    const bytes = await readBoundedFile(path, '--input file', MAX_INPUT_SIZE)
    digests.push(new Uint8Array(createHash('sha256').update(bytes).digest()))
  }

  return digests
}

async function readPolicy(path: string | undefined): Promise<Policy | undefined> {
  if (path === undefined) return undefined
  const bytes = await readBoundedFile(path, '--policy file', MAX_DOCUMENT_SIZE)

  return parsePolicy(new TextDecoder().decode(bytes))
}

const MARK: Record<Check['status'], string> = { pass: 'pass', fail: 'FAIL', skipped: 'skip' }

/** Formats a result: every check in order, then the verdict and what the document states. */
export function formatOutputReport(file: string, result: OutputVerification): string {
  const width = Math.max(...result.checks.map((check) => check.name.length), 0)
  const checks = result.checks.map((check) => {
    const code = check.code === undefined ? '' : ` [${check.code}]`
    return `  ${MARK[check.status]}  ${check.name.padEnd(width)}  ${check.detail}${code}`
  })
  const verdict =
    result.verdict === 'indeterminate'
      ? 'indeterminate (checks that ran passed; the evidence could not be judged fully)'
      : result.verdict === 'valid'
        ? 'valid'
        : 'INVALID'
  const { code, inputs, issuedAt } = result.document
  const lines = [
    `${file}: attested output from ${code.platform} evidence, judged at ${result.evidence.verifiedAt}`,
    '',
    ...checks,
    '',
    `verdict      ${verdict}`,
    `measurement  ${code.measurement}`,
    ...(code.signer === undefined ? [] : [`signer       ${code.signer}`]),
    `issued at    ${issuedAt}`,
  ]
  inputs.forEach((digest, index) => {
    const label = index === 0 ? 'inputs' : ''
    lines.push(`${label.padEnd(13)}${digest}`)
  })

  return `${lines.join('\n')}\n`
}

/** Runs the command and returns the exit code. */
export async function runVerifyOutput(
  file: string,
  flags: VerifyOutputFlags,
  out: (text: string) => void,
): Promise<number> {
  const bundle = parseOutputBundle(await readBoundedFile(file, 'bundle file', MAX_BUNDLE_SIZE))
  const verify = await withSimKey(bundle.evidence, await verifyOptions(flags))
  const policy = await readPolicy(flags.policy)
  if (policy === undefined)
    process.stderr.write(
      'confide: no --policy, so any measurement is accepted, a simulated TEE included\n',
    )
  const expected = await inputDigests(flags)
  const result = await verifyOutput(bundle, {
    verify,
    ...(policy === undefined ? {} : { policy }),
    ...(expected.length === 0 ? {} : { expectedInputDigest: expected }),
  })
  if (flags.json === true) out(`${JSON.stringify(outputJson(result))}\n`)
  else out(formatOutputReport(file, result))

  if (result.verdict === 'valid') return EXIT.VALID
  if (result.verdict === 'invalid') return EXIT.INVALID
  return EXIT.INDETERMINATE
}

/** Converts a result to JSON data, with the document's byte fields as base64url as in the file. */
function outputJson(result: OutputVerification): unknown {
  const { document } = result
  const workload = {
    signatureAlgorithm: document.workload.signatureAlgorithm,
    signingKey: Buffer.from(document.workload.signingKey).toString('base64url'),
    hpkePublicKey: Buffer.from(document.workload.hpkePublicKey).toString('base64url'),
  }
  const outcome =
    'bytes' in document.result
      ? { bytes: Buffer.from(document.result.bytes).toString('base64url') }
      : document.result

  return { ...result, document: { ...document, workload, result: outcome } }
}

/** Adds `verify-output` to the program. */
export function registerVerifyOutput(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('verify-output')
    .description(
      'verify an attested output offline: its evidence, the binding of the signing key, the signature, the code it names and the inputs it lists',
    )
    .argument('<bundle>', 'output bundle (JSON: document, signature and evidence)')
    .option(
      '--trust <file>',
      'trusted roots or trusted public keys for the evidence, as for `confide verify`; repeatable',
      collect,
    )
    .option('--collateral <dir>', 'directory of collateral files, as for `confide verify`')
    .option(
      '--policy <file>',
      'appraisal policy (JSON or YAML) whose every check the evidence must pass',
    )
    .option(
      '--input <file>',
      'a sealed input as sent to the workload; the output must list its SHA-256; repeatable',
      collect,
    )
    .option(
      '--input-digest <hex>',
      'SHA-256 of a sealed input the output must list; repeatable',
      collect,
    )
    .option('--at <time>', 'judge the evidence at this ISO-8601 time (default: now)')
    .option('--allow-debug', 'accept a TEE in debug mode (its memory is readable by the host)')
    .option('--json', 'print the result as one JSON object')
    .action(async (file: string, flags: VerifyOutputFlags) => {
      setExitCode(await runVerifyOutput(file, flags, (text) => process.stdout.write(text)))
    })
}
