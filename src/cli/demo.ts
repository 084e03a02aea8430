/**
 * `confide demo`: the whole flow on this machine with the simulated TEE (service, key release
 * under a policy, RA-TLS, attested output, audit log), printed step by step.
 *
 * @module
 */
import type { Command } from 'commander'
import { ConfigError } from '../core/errors.js'
import {
  DEMO_EXIT_BASE,
  DEMO_STEPS,
  type DemoResult,
  type DemoStepEvent,
  runDemo,
} from '../demo/runner.js'

interface DemoFlags {
  readonly keep?: boolean
  readonly json?: boolean
  readonly port?: string
}

/** Reads `--port` as a TCP port from 0 to 65535. */
function parsePort(text: string | undefined): number {
  if (text === undefined) return 0
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN
  if (!(port >= 0 && port <= 65535))
    throw new ConfigError('ERR_CONFIG_INVALID', `--port ${text} is not a TCP port from 0 to 65535`)

  return port
}

/** Formats one step as text: its number, name and summary, then its details indented. */
export function formatDemoStep(event: DemoStepEvent): string {
  const head = `[${event.step}/${DEMO_STEPS.length}] ${event.name.padEnd(9)} `
  const mark = event.ok ? '' : 'FAILED: '
  const details = event.details.map((line) => `${' '.repeat(head.length)}${line}\n`)

  return `${head}${mark}${event.summary}\n${details.join('')}`
}

/** Formats the closing lines: passed or where it failed, and where the kept folder is. */
export function formatDemoEnd(result: DemoResult): string {
  const lines: string[] = []
  for (const failure of result.cleanupFailures) lines.push(`cleanup failed: ${failure}`)
  if (result.failed !== undefined)
    lines.push(
      `demo failed at step ${result.failed.step} (${result.failed.name}); exit code ${result.exitCode}`,
    )
  else if (result.exitCode !== 0)
    lines.push(`demo failed while stopping; exit code ${result.exitCode}`)
  else
    lines.push('demo passed: every step did what it should, and everything it started is stopped')
  const folder = result.folder
  if (result.kept && folder !== undefined)
    lines.push(
      `kept ${folder}; check the output by hand with:`,
      `  confide verify-output ${folder}/output.json --trust ${folder}/sim-key.pub \\`,
      `    --policy ${folder}/policy.json --input ${folder}/party-a.sealed.json --input ${folder}/party-b.sealed.json`,
    )

  return `${lines.join('\n')}\n`
}

/** Runs the demo, writing each step to `out` as it ends, and returns the exit code. */
export async function runDemoCommand(
  flags: DemoFlags,
  out: (text: string) => void,
  signal?: AbortSignal,
): Promise<number> {
  const port = parsePort(flags.port)
  const json = flags.json === true
  if (!json)
    out(
      'confide demo: simulated TEE, for development only (its evidence proves nothing about hardware)\n',
    )
  const result = await runDemo({
    port,
    keep: flags.keep === true,
    ...(signal === undefined ? {} : { signal }),
    onStep: (event) => out(json ? `${JSON.stringify(event)}\n` : formatDemoStep(event)),
  })
  if (json)
    out(
      `${JSON.stringify({
        result: result.exitCode === 0 ? 'passed' : 'failed',
        exitCode: result.exitCode,
        ...(result.failed === undefined ? {} : { failedStep: result.failed.name }),
        ...(result.kept ? { folder: result.folder } : {}),
        cleanupFailures: result.cleanupFailures,
      })}\n`,
    )
  else out(formatDemoEnd(result))

  return result.exitCode
}

/** Adds `demo` to the program. */
export function registerDemo(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('demo')
    .description(
      `run the whole flow with the simulated TEE in a temporary folder: the service, a secret released under a policy, RA-TLS, an attested output, the audit log. Exit 0 when every step did what it should, ${DEMO_EXIT_BASE} + N when step N failed`,
    )
    .option('--keep', 'keep the temporary folder (store, keys, output bundle) and print its path')
    .option('--json', 'print one JSON object per step, then one with the result')
    .option('--port <port>', 'TCP port of the service on 127.0.0.1; 0 picks a free one', '0')
    .action(async (flags: DemoFlags) => {
      // Ctrl-C stops the demo before its next step, so it still stops what it started.
      const controller = new AbortController()
      const onSignal = () => controller.abort()
      process.once('SIGINT', onSignal)
      try {
        setExitCode(
          await runDemoCommand(flags, (text) => process.stdout.write(text), controller.signal),
        )
      } finally {
        process.off('SIGINT', onSignal)
      }
    })
}
