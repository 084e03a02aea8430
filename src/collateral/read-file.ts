/**
 * Bounded reads of evidence and collateral files. Node only.
 *
 * @module
 */
import { open } from 'node:fs/promises'
import { ConfigError } from '../core/errors.js'

/**
 * Reads a regular file of at most `limit` bytes. Devices, pipes and directories are rejected
 * before anything is read, so `/dev/zero` cannot exhaust memory.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` naming the file and the reason.
 */
export async function readBoundedFile(
  path: string,
  what: string,
  limit: number,
): Promise<Uint8Array> {
  const fail = (reason: string) =>
    new ConfigError('ERR_CONFIG_INVALID', `${what} ${path} ${reason}`)
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw fail(`cannot be read: ${error.code ?? error.message}`)
  })
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw fail('is not a regular file')
    if (info.size === 0) throw fail('is empty')
    if (info.size > limit) throw fail(`is ${info.size} bytes, more than the ${limit} accepted`)
    const bytes = new Uint8Array(info.size)
    const { bytesRead } = await handle.read(bytes, 0, info.size, 0)
    return bytes.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}
