/**
 * `confide kbs get URL repo/type/tag`: attests to a KBS with this machine's TEE and writes the
 * resource it releases.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { type Command, Option } from 'commander'
import { ATTESTER_KINDS, createAttester, detectAttester } from '../attest/detect.js'
import { ConfigError } from '../core/errors.js'
import { kbsGetResource } from '../kbs/client.js'
import { parseResourcePath } from '../kbs/resource-path.js'
import { EXIT } from './exit-codes.js'

interface KbsGetFlags {
  readonly out?: string
  readonly attester?: string
  readonly tee?: string
  readonly keyType?: 'ec' | 'rsa'
  readonly ca?: string
  readonly insecure?: boolean
  readonly root?: string
}

/** Output streams of the command. */
export interface KbsGetOutput {
  readonly out: (bytes: Uint8Array) => void
  readonly warn: (text: string) => void
}

/**
 * Writes a secret readable by its owner only: to a temporary file with mode 0600 beside the
 * target, then renamed over it, so the target never exists with other permissions or half written.
 * A target that exists and is not a regular file (a FIFO, a terminal, /dev/null) is written in
 * place, because renaming over it would replace the device or pipe with a file.
 */
async function writeSecret(path: string, bytes: Uint8Array): Promise<void> {
  const existing = await stat(path).catch(() => undefined)
  if (existing !== undefined && !existing.isFile()) {
    if (existing.isDirectory())
      throw new ConfigError('ERR_CONFIG_INVALID', `--out ${path} is a directory; name a file`)
    await writeFile(path, bytes).catch((error: unknown) => {
      throw new ConfigError('ERR_CONFIG_INVALID', `cannot write the resource to ${path}`, {
        cause: error,
      })
    })
    return
  }
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}`)
  try {
    await writeFile(temporary, bytes, { mode: 0o600, flag: 'wx' })
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw new ConfigError('ERR_CONFIG_INVALID', `cannot write the resource to ${path}`, {
      cause: error,
    })
  }
}

/** Runs `kbs get` and returns the exit code. */
export async function runKbsGet(
  url: string,
  path: string,
  flags: KbsGetFlags,
  output: KbsGetOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const target = flags.out ?? parseResourcePath(path).tag
  const kind = flags.attester ?? (env.CONFIDE_ATTESTER === '' ? undefined : env.CONFIDE_ATTESTER)
  const attestOptions = { ...(flags.root === undefined ? {} : { root: flags.root }), env }
  const attester =
    kind === undefined
      ? await detectAttester(attestOptions)
      : await createAttester(kind, attestOptions)
  const ca = flags.ca === undefined ? {} : { ca: await readFile(flags.ca, 'utf8') }
  if (flags.insecure === true)
    output.warn('confide: --insecure: the KBS certificate is not checked, for a test KBS only\n')
  const resource = await kbsGetResource({
    url,
    path,
    attester,
    ...(flags.tee === undefined ? {} : { tee: flags.tee }),
    keyType: flags.keyType === 'rsa' ? 'RSA' : 'EC',
    ...ca,
    ...(flags.insecure === true ? { insecure: true } : {}),
  })

  if (target === '-') output.out(resource.bytes)
  else await writeSecret(target, resource.bytes)
  const where = target === '-' ? 'standard output' : `${target} (mode 0600)`
  output.warn(`confide: wrote ${resource.bytes.length} bytes of ${path} to ${where}\n`)
  if (attester.platform === 'sim') {
    output.warn('confide: attested with the simulated TEE, which proves nothing about hardware\n')
  }

  return EXIT.VALID
}

/** Adds `kbs get` to the program. */
export function registerKbs(program: Command, setExitCode: (code: number) => void): void {
  const kbs = program.command('kbs').description('client of a key broker service (Trustee KBS)')
  kbs
    .command('get')
    .description('attest to a KBS and write the resource it releases to this TEE')
    .argument('<url>', 'base URL of the KBS, such as https://kbs.example:8080')
    .argument('<path>', 'resource path repository/type/tag')
    .option(
      '--out <file>',
      'file to write the resource to, with mode 0600, or - for standard output (default: the tag, in the current folder)',
    )
    .addOption(
      new Option(
        '--attester <name>',
        'attester to use; sim is the simulated TEE for development (default: $CONFIDE_ATTESTER, else detected)',
      ).choices([...ATTESTER_KINDS]),
    )
    .option('--tee <name>', "TEE name sent to the KBS (default: the attester's platform)")
    .addOption(
      new Option('--key-type <type>', 'TEE key the resource is encrypted to')
        .choices(['ec', 'rsa'])
        .default('ec'),
    )
    .option('--ca <file>', 'PEM certificates trusted for an https URL (default: the system roots)')
    .option('--insecure', 'skip TLS certificate checks; for a test KBS only')
    .addOption(new Option('--root <dir>', 'file system root to look in, for tests').hideHelp())
    .action(async (url: string, path: string, flags: KbsGetFlags) => {
      const output: KbsGetOutput = {
        out: (bytes) => process.stdout.write(bytes),
        warn: (text) => process.stderr.write(text),
      }
      setExitCode(await runKbsGet(url, path, flags, output))
    })
}
