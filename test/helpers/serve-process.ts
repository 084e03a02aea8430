/**
 * `confide serve` as a child process on 127.0.0.1 with port 0, for tests and benches that need
 * the real command. The helper reads the URL from the JSON `listening` log line. It keeps reading
 * the log so that the child never blocks on a full pipe, and keeps the last part for messages.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The compiled command line entry point. */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))

/** Characters of log output kept for error messages. */
const LOG_TAIL_SIZE = 16 * 1024

/** A running `confide serve`. */
export interface ServeProcess {
  readonly child: ChildProcess
  /** The URL from the `listening` log line, such as `http://127.0.0.1:41234`. */
  readonly url: string
  /** Resolves with the exit code, or null after a signal, when the child has exited. */
  readonly exited: Promise<number | null>
  /** The last part of the child's stdout and stderr. */
  logTail(): string
  /** Sends `signal` and waits for the child to exit. */
  stop(signal: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts `confide serve --host 127.0.0.1 --port 0 --offline` with `args` added, and waits for
 * its `listening` log line.
 *
 * @throws Error when the child exits before listening; the message contains its log.
 */
export async function startServeProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [CLI_MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--offline', ...args],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let tail = ''
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-LOG_TAIL_SIZE)
  }
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const url = await new Promise<string>((resolve, reject) => {
    let pending = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk)
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const url = listeningUrl(line)
        if (url !== undefined) resolve(url)
      }
    })
    void exited.then((code) =>
      reject(new Error(`confide serve exited with ${code} before listening. Log:\n${tail}`)),
    )
  })

  return {
    child,
    url,
    exited,
    logTail: () => tail,
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** Returns the `url` of a JSON log line whose message is `listening`, or undefined. */
function listeningUrl(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined
  const entry = JSON.parse(line) as { msg?: unknown; url?: unknown }

  return entry.msg === 'listening' && typeof entry.url === 'string' ? entry.url : undefined
}
