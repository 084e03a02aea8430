/**
 * `confide verify FILE`: judges one piece of evidence and prints a report or the JSON result.
 *
 * @module
 */
import { basename } from 'node:path'
import type { Command } from 'commander'
import { loadCollateralDirectory } from '../collateral/directory.js'
import { readBoundedFile } from '../collateral/read-file.js'
import { fromHex } from '../core/bytes.js'
import { CollateralBundle } from '../core/collateral-bundle.js'
import { ConfigError } from '../core/errors.js'
import { encodeCompositeEvidence } from '../platforms/composite/format.js'
import { loadSimKey } from '../platforms/sim/dev-key.js'
import { sniffSimEvidence } from '../platforms/sim/format.js'
import { platformRegistry, type VerifyEvidenceOptions, verifyEvidence } from '../verify.js'
import {
  addCollateralSourceOptions,
  type CollateralFlags,
  collateralForVerify,
} from './collateral.js'
import { EXIT } from './exit-codes.js'
import { formatReport } from './report.js'
import { parseTime } from './time.js'
import { sortTrustFile, type TrustInputs } from './trust.js'

/** Largest evidence file read. Quotes and reports are a few KiB. */
const MAX_EVIDENCE_SIZE = 1024 * 1024

interface VerifyFlags extends CollateralFlags {
  readonly platform?: string
  readonly collateral?: string
  readonly trust?: readonly string[]
  readonly signature?: string
  readonly pcrs?: string
  readonly at?: string
  readonly reportData?: string
  readonly nonce?: string
  readonly userData?: string
  readonly allowDebug?: boolean
  readonly json?: boolean
}

async function optionsFrom(flags: VerifyFlags): Promise<VerifyEvidenceOptions> {
  const options: { -readonly [K in keyof VerifyEvidenceOptions]: VerifyEvidenceOptions[K] } = {}
  if (flags.platform !== undefined) options.platform = flags.platform
  if (flags.at !== undefined) options.at = parseTime(flags.at)
  if (flags.reportData !== undefined)
    options.expectedReportData = fromHex(flags.reportData, '--report-data')
  if (flags.nonce !== undefined) options.expectedNonce = fromHex(flags.nonce, '--nonce')
  if (flags.userData !== undefined)
    options.expectedUserData = fromHex(flags.userData, '--user-data')
  if (flags.allowDebug === true) options.allowDebug = true
  const collateral = await collateralFiles(flags)
  if (collateral !== undefined) options.collateral = collateral
  if (flags.trust !== undefined && flags.trust.length > 0) {
    const trust: TrustInputs = { anchors: [], keys: [] }
    for (const path of flags.trust) {
      sortTrustFile(path, await readBoundedFile(path, 'trust file', MAX_EVIDENCE_SIZE), trust)
    }
    if (trust.anchors.length > 0) options.trustAnchors = trust.anchors
    if (trust.keys.length > 0) options.trustedKeys = trust.keys
  }
  return options
}

/**
 * Loads `--collateral DIR` and adds the files named by `--signature` (a TPM quote's signature) and
 * `--pcrs` (its PCR values) under the names the platforms read.
 */
async function collateralFiles(flags: VerifyFlags): Promise<CollateralBundle | undefined> {
  const extra: [string, Uint8Array][] = []
  if (flags.signature !== undefined) {
    extra.push([
      'tpmt_signature.bin',
      await readBoundedFile(flags.signature, 'signature file', MAX_EVIDENCE_SIZE),
    ])
  }
  if (flags.pcrs !== undefined) {
    const name = /^pcrs(_[a-z0-9]+)?\.json$/.test(basename(flags.pcrs))
      ? basename(flags.pcrs)
      : 'pcrs.json'
    extra.push([name, await readBoundedFile(flags.pcrs, 'PCR file', MAX_EVIDENCE_SIZE)])
  }
  const directory =
    flags.collateral === undefined ? undefined : await loadCollateralDirectory(flags.collateral)
  if (extra.length === 0) return directory
  return (directory ?? new CollateralBundle([])).with(extra)
}

/**
 * Reads the evidence: one file as it is, or several files as composite evidence with one
 * component per file, labelled by file name.
 */
async function readEvidence(
  files: readonly string[],
  platform: string | undefined,
): Promise<Uint8Array> {
  const components = []
  const labels = new Set<string>()
  for (const file of files) {
    const bytes = await readBoundedFile(file, 'evidence file', MAX_EVIDENCE_SIZE)
    if (files.length === 1) return bytes
    let label = basename(file).replace(/\.[^.]*$/, '')
    for (let n = 2; labels.has(label); n++) label = `${basename(file)}-${n}`
    labels.add(label)
    components.push({ label, evidence: bytes })
  }
  if (platform !== undefined && platform !== 'composite') {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `several evidence files are verified together as composite evidence; remove --platform ${platform}`,
    )
  }
  return encodeCompositeEvidence(components)
}

/**
 * Adds the local sim key to the trusted keys when the evidence is the simulated TEE's, so that
 * evidence made on this machine verifies. The key is loaded, never created: with no key file the
 * signature stays unchecked. Returns the problem to print when the key file cannot be read.
 */
async function withSimKey(
  bytes: Uint8Array,
  options: VerifyEvidenceOptions,
): Promise<{ options: VerifyEvidenceOptions; problem?: string }> {
  if (options.platform !== undefined && options.platform !== 'sim') return { options }
  if (!sniffSimEvidence(bytes)) return { options }
  try {
    const key = await loadSimKey({ create: false })
    const trustedKeys = [...(options.trustedKeys ?? []), key.publicKeySpki]

    return { options: { ...options, trustedKeys } }
  } catch (error) {
    if (error instanceof ConfigError && error.code === 'ERR_CONFIG_KEY_NOT_FOUND')
      return { options }
    if (error instanceof ConfigError) return { options, problem: error.message }
    throw error
  }
}

/** Runs the command and returns the exit code. */
export async function runVerify(
  files: readonly string[],
  flags: VerifyFlags,
  out: (text: string) => void,
): Promise<number> {
  const bytes = await readEvidence(files, flags.platform)
  const { options, problem } = await withSimKey(bytes, await optionsFrom(flags))
  if (problem !== undefined) process.stderr.write(`confide: ${problem}\n`)
  const file = files.join(', ')
  // Fetching is a step of its own, so verifyEvidence does no I/O.
  const { collateral, problems } = await collateralForVerify(bytes, flags, options)
  const result = await verifyEvidence(bytes, {
    ...options,
    ...(collateral === undefined ? {} : { collateral }),
  })
  for (const problem of problems) process.stderr.write(`confide: ${problem}\n`)
  if (flags.json === true) out(`${JSON.stringify(result)}\n`)
  else out(formatReport(file, platformRegistry().get(result.platform).title, result))

  if (result.verdict === 'valid') return EXIT.VALID
  if (result.verdict === 'invalid') return EXIT.INVALID
  return EXIT.INDETERMINATE
}

/** Adds `verify` to the program. */
export function registerVerify(program: Command, setExitCode: (code: number) => void): void {
  const command = program
    .command('verify')
    .description(
      'verify attestation evidence: signatures, certificate chains, collateral and TCB status',
    )
    .argument(
      '<files...>',
      'evidence: an SGX or TDX quote, an SEV-SNP report, a Nitro document, an NVIDIA GPU report, a TPM quote, an Arm CCA token, simulated TEE evidence or composite evidence; several files are verified together as composite evidence',
    )
    .option(
      '--platform <name>',
      `platform of the evidence: ${platformRegistry()
        .platforms.map((p) => p.name)
        .join(', ')} (default: detected from the bytes)`,
    )
    .option(
      '--collateral <dir>',
      'directory of collateral files: Intel PCS form (tcb_info.json, qe_identity.json, *_issuer_chain.pem, pck_crl.der, root_ca_crl.der) or AMD certificates (vcek.der or vlek.der, ask_ark.pem or asvk_ark.pem)',
    )
    .option(
      '--trust <file>',
      "trusted roots (certificates, replacing the roots pinned in confide) or trusted public keys (a TPM attestation key, an Arm CCA platform key, a sim key other than this machine's), as PEM or DER; repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--signature <file>', 'the TPMT_SIGNATURE of a TPM quote given as TPMS_ATTEST')
    .option('--pcrs <file>', 'PCR values of a TPM quote, as JSON (pcrs_sha256.json)')
    .option('--at <time>', 'judge certificates and collateral at this ISO-8601 time (default: now)')
    .option(
      '--report-data <hex>',
      'expected report data; shorter values are zero-padded to the full field',
    )
    .option(
      '--nonce <hex>',
      'expected nonce of a Nitro document, an NVIDIA report or a TPM quote, compared byte for byte',
    )
    .option('--user-data <hex>', 'expected user data of a Nitro document, compared byte for byte')
    .option('--allow-debug', 'accept a TEE in debug mode (its memory is readable by the host)')
    .option(
      '--offline',
      'never use the network: collateral comes from --collateral and the cache (default: fetch what is missing)',
    )
    .option('--json', 'print the verification result as one JSON object')
  addCollateralSourceOptions(command).action(async (files: string[], flags: VerifyFlags) => {
    setExitCode(await runVerify(files, flags, (text) => process.stdout.write(text)))
  })
}
