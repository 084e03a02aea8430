/**
 * `confide appraise FILE --policy POLICY`: verifies evidence, appraises it against a policy and
 * reference values, and prints the checks and the status, or a signed EAR with `--json`.
 *
 * @module
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Command } from 'commander'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { earClaims, signEar } from '../appraisal/ear.js'
import { earSignerJwk } from '../appraisal/jwks.js'
import { parsePolicy } from '../appraisal/policy.js'
import { readReferenceValues } from '../appraisal/read-reference-values.js'
import { MemoryReferenceValueStore } from '../appraisal/reference-values.js'
import { appraiseSubmodules } from '../appraisal/submodules.js'
import type { AppraisalCheck, AppraisalResult } from '../appraisal/types.js'
import { loadCollateralDirectory } from '../collateral/directory.js'
import { readBoundedFile } from '../collateral/read-file.js'
import { ConfigError } from '../core/errors.js'
import type { VerificationResult } from '../core/types.js'
import { type VerifyEvidenceOptions, verifyEvidence } from '../verify.js'
import { EXIT } from './exit-codes.js'
import { parseTime } from './time.js'

/** Largest evidence file read. Quotes and reports are a few KiB. */
const MAX_EVIDENCE_SIZE = 1024 * 1024
/** Largest policy, reference values or key file read. */
const MAX_DOCUMENT_SIZE = 4 * 1024 * 1024
/** The verifier identity confide puts in its EARs (`ear.verifier-id`). */
const VERIFIER = { build: 'confide 0.1.0', developer: 'confide' } as const

interface AppraiseFlags {
  readonly policy: string
  readonly reference?: string
  readonly collateral?: string
  readonly platform?: string
  readonly at?: string
  readonly key?: string
  readonly json?: boolean
}

/** Output streams: stdout for results, stderr for warnings. */
export interface AppraiseOutput {
  readonly out: (text: string) => void
  readonly warn: (text: string) => void
}

interface EarSigner {
  readonly key: KeyObject
  readonly alg: 'ES256' | 'EdDSA'
  readonly kid?: string
  readonly jwk?: JWK
}

async function readText(path: string, label: string): Promise<string> {
  return new TextDecoder().decode(await readBoundedFile(path, label, MAX_DOCUMENT_SIZE))
}

function algorithmOf(key: KeyObject, path: string): 'ES256' | 'EdDSA' {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ES256'
  throw new ConfigError(
    'ERR_CONFIG_INVALID',
    `--key ${path} is not an EC P-256 or Ed25519 private key; EARs are signed with ES256 or EdDSA`,
  )
}

/** Loads the signing key of --key, or makes a one-time key whose public half rides in the header. */
async function signerFor(path: string | undefined, output: AppraiseOutput): Promise<EarSigner> {
  if (path === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    output.warn(
      'confide: no --key given, so the EAR is signed with a one-time key carried in its header: a relying party can check its integrity but not who issued it\n',
    )
    return { key: privateKey, alg: 'ES256', jwk: await earSignerJwk(publicKey, 'ES256') }
  }
  let key: KeyObject
  try {
    key = createPrivateKey(await readText(path, '--key file'))
  } catch (error) {
    if (error instanceof ConfigError) throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError('ERR_CONFIG_INVALID', `--key ${path} is not a PEM private key: ${reason}`)
  }
  const alg = algorithmOf(key, path)
  const kid = await calculateJwkThumbprint(await earSignerJwk(key, alg))

  return { key, alg, kid }
}

async function verifyOptions(flags: AppraiseFlags): Promise<VerifyEvidenceOptions> {
  const options: { -readonly [K in keyof VerifyEvidenceOptions]: VerifyEvidenceOptions[K] } = {
    // The policy decides about debug mode, so verification accepts it and reports the claim.
    allowDebug: true,
  }
  if (flags.platform !== undefined) options.platform = flags.platform
  if (flags.at !== undefined) options.at = parseTime(flags.at)
  if (flags.collateral !== undefined)
    options.collateral = await loadCollateralDirectory(flags.collateral)
  return options
}

const MARK: Record<AppraisalCheck['status'], string> = {
  pass: 'pass',
  fail: 'FAIL',
  'not-checked': 'skip',
}

/** Formats one appraisal: every check in order, the trustworthiness vector, then the status. */
export function formatAppraisal(file: string, label: string, result: AppraisalResult): string {
  const width = Math.max(...result.checks.map((check) => check.name.length), 0)
  const checks = result.checks.map(
    (check) => `  ${MARK[check.status]}  ${check.name.padEnd(width)}  ${check.detail}`,
  )
  const vector = Object.entries(result.trustVector)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ')
  const lines = [
    `${file} ${label}: ${result.platform} evidence, policy ${result.policyId}, appraised at ${result.appraisedAt}`,
    '',
    ...checks,
    '',
    `trust vector  ${vector}`,
    `status        ${result.status}`,
  ]
  return `${lines.join('\n')}\n`
}

/** Exit code: 0 when every part is affirmed, 3 when collateral was missing and nothing failed. */
function exitCodeOf(results: readonly AppraisalResult[], verification: VerificationResult): number {
  if (results.every((result) => result.status === 'affirming')) return EXIT.VALID
  const checks = results.flatMap((result) => result.checks)
  const failed = checks.some((check) => check.status === 'fail')
  if (verification.verdict === 'indeterminate' && !failed) return EXIT.INDETERMINATE

  return EXIT.INVALID
}

/**
 * Runs the command and returns the exit code: 0 when every part's status is affirming, 3 when
 * collateral was missing and no check failed, 1 otherwise. Unreadable inputs and bad policies
 * throw. Composite evidence gives one appraisal, and one EAR submodule, per part.
 */
export async function runAppraise(
  file: string,
  flags: AppraiseFlags,
  output: AppraiseOutput,
): Promise<number> {
  const policy = parsePolicy(await readText(flags.policy, '--policy file'))
  const store = new MemoryReferenceValueStore(
    flags.reference === undefined
      ? []
      : readReferenceValues(
          await readBoundedFile(flags.reference, '--reference file', MAX_DOCUMENT_SIZE),
          flags.reference,
        ),
  )
  const options = await verifyOptions(flags)
  const evidence = await readBoundedFile(file, 'evidence file', MAX_EVIDENCE_SIZE)
  const verification = await verifyEvidence(evidence, options)
  const at = options.at ?? new Date(verification.verifiedAt)
  const submods = appraiseSubmodules(verification, policy, {
    referenceValues: await store.list(),
    at,
  })
  const exitCode = exitCodeOf(Object.values(submods), verification)
  if (flags.json !== true) {
    const sections = Object.entries(submods).map(([label, result]) =>
      formatAppraisal(file, label, result),
    )
    output.out(sections.join('\n'))
    return exitCode
  }
  const signer = await signerFor(flags.key, output)
  const earOptions = { verifier: VERIFIER, issuedAt: at }
  const token = await signEar(submods, signer, earOptions)
  output.out(`${JSON.stringify({ token, claims: earClaims(submods, earOptions) })}\n`)

  return exitCode
}

/** Adds `appraise` to the program. */
export function registerAppraise(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('appraise')
    .description(
      'verify evidence, then judge it against a policy and reference values: AR4SI trust vector, status and an EAR',
    )
    .argument('<file>', 'evidence, in any form `confide verify` reads')
    .requiredOption('--policy <file>', 'appraisal policy, JSON or YAML')
    .option(
      '--reference <file>',
      'reference values: JSON ({"referenceValues": [...]}) or an unsigned CoRIM',
    )
    .option('--collateral <dir>', 'directory of collateral files, as for `confide verify`')
    .option('--platform <name>', 'platform of the evidence (default: detected from the bytes)')
    .option(
      '--at <time>',
      'judge certificates, collateral and reference values at this ISO-8601 time; also the EAR issue time (default: now)',
    )
    .option(
      '--key <pem>',
      'EC P-256 or Ed25519 private key (PEM) that signs the EAR with --json (default: a one-time key, with a warning)',
    )
    .option('--json', 'print the signed EAR and its claims as one JSON object')
    .action(async (file: string, flags: AppraiseFlags) => {
      const output = {
        out: (text: string) => process.stdout.write(text),
        warn: (text: string) => process.stderr.write(text),
      }
      setExitCode(await runAppraise(file, flags, output))
    })
}
