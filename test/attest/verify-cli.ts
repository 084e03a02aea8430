/**
 * Runs `confide verify` on written evidence, offline and with a store in memory, and returns its
 * JSON result.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { repositoryRoot } from '../helpers/corpus.js'

export const cli = join(repositoryRoot, 'dist', 'src', 'cli', 'main.js')

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI with `args`, with a store in memory and the given extra environment. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CONFIDE_STORE: ':memory:', ...env },
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Runs `confide verify FILE --offline --json` with more arguments and parses the result. */
export function verifyFile(
  file: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): { code: number | null; verdict: string; platform: string; tcbStatus?: string } {
  const run = runCli(['verify', file, '--offline', '--json', ...args], env)
  if (run.stdout === '') throw new Error(`confide verify printed nothing: ${run.stderr}`)
  const result = JSON.parse(run.stdout)
  return { code: run.code, ...result }
}
