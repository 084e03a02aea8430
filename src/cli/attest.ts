/**
 * `confide attest --report-data HEX --out FILE`: requests evidence bound to the report data from
 * this machine's TEE and writes it in the form `confide verify` reads.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises'
import { type Command, Option } from 'commander'
import { ATTESTER_KINDS, createAttester, detectAttester } from '../attest/detect.js'
import { fromHex } from '../core/bytes.js'
import { ConfigError } from '../core/errors.js'
import { EXIT } from './exit-codes.js'

interface AttestFlags {
  readonly reportData: string
  readonly out: string
  readonly attester?: string
  readonly privlevel?: string
  readonly root?: string
}

/** Output streams of the command. */
export interface AttestOutput {
  readonly out: (bytes: Uint8Array) => void
  readonly warn: (text: string) => void
}

function parsePrivlevel(text: string | undefined): { privlevel?: number } {
  if (text === undefined) return {}
  if (!/^[0-3]$/.test(text)) {
    throw new ConfigError('ERR_CONFIG_INVALID', `--privlevel ${text} is not an integer from 0 to 3`)
  }

  return { privlevel: Number(text) }
}

/**
 * Runs the command and returns the exit code. The attester is `--attester`, else
 * `$CONFIDE_ATTESTER`, else the one detected; the simulated TEE is used only when named.
 */
export async function runAttest(
  flags: AttestFlags,
  output: AttestOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  // An empty value is most often an unset shell variable, and would bind nothing.
  if (flags.reportData.trim() === '' || /^0x$/i.test(flags.reportData))
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      '--report-data is empty: give 1 to 64 bytes of hex (pad with 00 to bind zeros on purpose)',
    )
  const reportData = fromHex(flags.reportData, '--report-data')
  const kind = flags.attester ?? (env.CONFIDE_ATTESTER === '' ? undefined : env.CONFIDE_ATTESTER)
  const options = {
    ...(flags.root === undefined ? {} : { root: flags.root }),
    ...parsePrivlevel(flags.privlevel),
    env,
  }
  const attester =
    kind === undefined ? await detectAttester(options) : await createAttester(kind, options)
  const evidence = await attester.attest(reportData)

  if (flags.out === '-') output.out(evidence)
  else await writeFile(flags.out, evidence)
  const where = flags.out === '-' ? 'standard output' : flags.out
  output.warn(
    `confide: wrote ${evidence.length} bytes of ${attester.platform} evidence from ${attester.name} to ${where}\n`,
  )
  if (attester.platform === 'sim') {
    output.warn('confide: simulated TEE: the evidence proves nothing about hardware\n')
  }

  return EXIT.VALID
}

/** Adds `attest` to the program. */
export function registerAttest(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('attest')
    .description(
      "get evidence from this machine's TEE (configfs-tsm, Gramine /dev/attestation) bound to report data",
    )
    .requiredOption(
      '--report-data <hex>',
      'up to 64 bytes (128 hex digits) to bind into the evidence; shorter values are zero-padded',
    )
    .requiredOption('--out <file>', 'file to write the evidence to, or - for standard output')
    .addOption(
      new Option(
        '--attester <name>',
        'attester to use; sim is the simulated TEE for development (default: $CONFIDE_ATTESTER, else detected)',
      ).choices([...ATTESTER_KINDS]),
    )
    .option(
      '--privlevel <n>',
      'configfs-tsm privilege level, 0 to 3 (SEV-SNP: the VMPL; default: the guest floor)',
    )
    .addOption(new Option('--root <dir>', 'file system root to look in, for tests').hideHelp())
    .action(async (flags: AttestFlags) => {
      const output: AttestOutput = {
        out: (bytes) => process.stdout.write(bytes),
        warn: (text) => process.stderr.write(text),
      }
      setExitCode(await runAttest(flags, output))
    })
}
