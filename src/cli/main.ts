#!/usr/bin/env node
/**
 * The confide command line. Each command is a thin shell over the library.
 *
 * @module
 */
import { Command, CommanderError } from 'commander'
import { ConfideError } from '../core/errors.js'
import { registerAdmin } from './admin.js'
import { registerAppraise } from './appraise.js'
import { registerAttest } from './attest.js'
import { registerCollateral } from './collateral.js'
import { registerDemo } from './demo.js'
import { EXIT } from './exit-codes.js'
import { registerKbs } from './kbs.js'
import { registerRatls } from './ratls.js'
import { registerServe } from './serve.js'
import { registerVerify } from './verify.js'
import { registerVerifyOutput } from './verify-output.js'

function describeError(error: unknown): string {
  if (error instanceof ConfideError) return `${error.message} (${error.code})`
  if (error instanceof Error) return `internal error: ${error.message}`
  return `internal error: ${String(error)}`
}

/** Exit code for an error that stopped a command. */
function exitCodeFor(error: unknown): number {
  if (error instanceof ConfideError && error.code.startsWith('ERR_COLLATERAL_'))
    return EXIT.INDETERMINATE
  return EXIT.USAGE
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.VALID
  const program = new Command()
    .name('confide')
    .description('remote attestation for confidential computing')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
  registerVerify(program, (code) => {
    exitCode = code
  })
  registerVerifyOutput(program, (code) => {
    exitCode = code
  })
  registerAppraise(program, (code) => {
    exitCode = code
  })
  registerCollateral(program, (code) => {
    exitCode = code
  })
  registerServe(program, (code) => {
    exitCode = code
  })
  registerAdmin(program, (code) => {
    exitCode = code
  })
  registerAttest(program, (code) => {
    exitCode = code
  })
  registerKbs(program, (code) => {
    exitCode = code
  })
  registerRatls(program, (code) => {
    exitCode = code
  })
  registerDemo(program, (code) => {
    exitCode = code
  })
  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.VALID : EXIT.USAGE
    }
    process.stderr.write(`confide: ${describeError(error)}\n`)
    return exitCodeFor(error)
  }
  return exitCode
}

process.exitCode = await main(process.argv.slice(2))
