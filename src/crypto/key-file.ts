/**
 * Key files on disk: read with a size bound, and created once even when processes race. Node
 * only; the service's keys and the simulated TEE's key use it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ConfigError } from '../core/errors.js'

/** Maximum size of a key file, in bytes. A PEM key is well under a kilobyte. */
export const MAX_KEY_FILE_SIZE = 64 * 1024

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code
}

/**
 * Reads a key file; returns undefined when it does not exist. `what` names the key in messages.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when the file cannot be read or is over
 *   `MAX_KEY_FILE_SIZE`.
 */
export async function readKeyFile(path: string, what: string): Promise<Buffer | undefined> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined
    const reason = (error as NodeJS.ErrnoException).code ?? String(error)
    throw new ConfigError('ERR_CONFIG_INVALID', `cannot read the ${what} ${path}: ${reason}`, {
      cause: error,
    })
  }
  if (bytes.length > MAX_KEY_FILE_SIZE)
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `the ${what} ${path} is larger than ${MAX_KEY_FILE_SIZE} bytes, too large for a key file`,
    )

  return bytes
}

/**
 * Writes `contents` to `path` unless it exists, and returns what `path` then contains. The bytes
 * go to a temporary file with mode 0600 that is then linked into place, in a folder created with
 * mode 0700. Linking fails when `path` exists, so when two processes create the file at once, one
 * wins and the other reads the winner's file. No reader sees a partly written file.
 */
export async function createFileOnce(path: string, contents: string | Buffer): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temporary, contents, { mode: 0o600, flag: 'wx' })
  try {
    await link(temporary, path)
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error
    return readFile(path)
  } finally {
    await unlink(temporary)
  }

  return Buffer.from(contents)
}
