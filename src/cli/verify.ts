/**
 * `confide verify FILE`: judges one piece of evidence and prints a report or the JSON result.
 *
 * @module
 */
import type { Command } from 'commander'
import { loadCollateralDirectory } from '../collateral/directory.js'
import { readBoundedFile } from '../collateral/read-file.js'
import { decodePem, fromHex } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'
import { platformRegistry, type VerifyEvidenceOptions, verifyEvidence } from '../verify.js'
import {
  addCollateralSourceOptions,
  type CollateralFlags,
  collateralForVerify,
} from './collateral.js'
import { EXIT } from './exit-codes.js'
import { formatReport } from './report.js'
import { parseTime } from './time.js'

/** Largest evidence file read. Quotes and reports are a few KiB. */
const MAX_EVIDENCE_SIZE = 1024 * 1024

interface VerifyFlags extends CollateralFlags {
  readonly platform?: string
  readonly collateral?: string
  readonly trust?: string
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
  if (flags.collateral !== undefined)
    options.collateral = await loadCollateralDirectory(flags.collateral)
  if (flags.trust !== undefined) {
    const text = new TextDecoder().decode(
      await readBoundedFile(flags.trust, 'trust anchor file', MAX_EVIDENCE_SIZE),
    )
    const anchors = decodePem(text).filter((block) => block.label === 'CERTIFICATE')
    if (anchors.length === 0)
      throw new ConfigError(
        'ERR_CONFIG_INVALID',
        `--trust ${flags.trust} contains no PEM certificate`,
      )
    options.trustAnchors = anchors.map((block) => block.der)
  }
  return options
}

/** Runs the command and returns the exit code. */
export async function runVerify(
  file: string,
  flags: VerifyFlags,
  out: (text: string) => void,
): Promise<number> {
  const options = await optionsFrom(flags)
  const bytes = await readBoundedFile(file, 'evidence file', MAX_EVIDENCE_SIZE)
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
      '<file>',
      'evidence: an SGX or TDX quote, an SEV-SNP report, or a Nitro attestation document (raw, base64, or in a TLS certificate)',
    )
    .option('--platform <name>', 'platform of the evidence (default: detected from the bytes)')
    .option(
      '--collateral <dir>',
      'directory of collateral files: Intel PCS form (tcb_info.json, qe_identity.json, *_issuer_chain.pem, pck_crl.der, root_ca_crl.der) or AMD certificates (vcek.der or vlek.der, ask_ark.pem or asvk_ark.pem)',
    )
    .option(
      '--trust <pem>',
      'PEM file of trusted root certificates, replacing the roots pinned in confide',
    )
    .option('--at <time>', 'judge certificates and collateral at this ISO-8601 time (default: now)')
    .option(
      '--report-data <hex>',
      'expected report data; shorter values are zero-padded to the full field',
    )
    .option('--nonce <hex>', 'expected nonce of a Nitro document, compared byte for byte')
    .option('--user-data <hex>', 'expected user data of a Nitro document, compared byte for byte')
    .option('--allow-debug', 'accept a TEE in debug mode (its memory is readable by the host)')
    .option(
      '--offline',
      'never use the network: collateral comes from --collateral and the cache (default: fetch what is missing)',
    )
    .option('--json', 'print the verification result as one JSON object')
  addCollateralSourceOptions(command).action(async (file: string, flags: VerifyFlags) => {
    setExitCode(await runVerify(file, flags, (text) => process.stdout.write(text)))
  })
}
