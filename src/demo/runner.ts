/**
 * `confide demo` as a library call. It runs the seven steps in order with the simulated TEE,
 * reports each as it ends and stops at the first that fails. At the end it stops every server it
 * started and removes its temporary folder unless asked to keep it. It prints nothing, because
 * the caller receives each step through `onStep`. Node only.
 *
 * @module
 */
import { ConfideError } from '../core/errors.js'
import { auditAndStop } from './audit.js'
import {
  DEMO_MEASUREMENT,
  DemoStepFailure,
  type DemoValue,
  OTHER_MEASUREMENT,
  type StepReport,
  StopList,
} from './context.js'
import { runAttestedOutput } from './output.js'
import { storeSecretAndPolicy } from './policy.js'
import { runRatls } from './ratls.js'
import { releaseSecret } from './release.js'
import { startDemoService } from './service.js'
import { createWorkspace } from './workspace.js'

/** The steps, in order. A failed step N gives exit code `DEMO_EXIT_BASE + N`. */
export const DEMO_STEPS = [
  'workspace',
  'service',
  'policy',
  'secret',
  'ratls',
  'output',
  'audit',
] as const

export type DemoStepName = (typeof DEMO_STEPS)[number]

/** Exit code of a failed step is this plus its number, so 11 to 17 name steps 1 to 7. */
export const DEMO_EXIT_BASE = 10

/** Exit code of a run interrupted with Ctrl-C: 128 + SIGINT, as shells report it. */
export const DEMO_EXIT_INTERRUPTED = 130

/** Options of `runDemo`. */
export interface DemoOptions {
  /** Port of the service; 0 picks a free one. Default: 0. */
  readonly port?: number
  /** Keep the temporary folder (the store, keys and output bundle). Default: false. */
  readonly keep?: boolean
  /** Folder in which the temporary folder is made. Default: the system's temporary folder. */
  readonly parent?: string
  /**
   * Measurement the resource policy names. Default: `DEMO_MEASUREMENT`, the demo workload's.
   * Another value makes the demo workload's release fail at step 4, as a policy should.
   */
  readonly policyMeasurement?: Uint8Array
  /**
   * Measurement of the workload step 3 shows refused. Default: `OTHER_MEASUREMENT`. The
   * policy's own measurement makes step 3 fail, because that workload is not refused.
   */
  readonly otherMeasurement?: Uint8Array
  /** Aborting stops the demo before its next step. */
  readonly signal?: AbortSignal
  /** Receives each step's outcome as the step ends. */
  readonly onStep?: (event: DemoStepEvent) => void
}

/** The outcome of one step. */
export interface DemoStepEvent {
  /** 1 to 7. */
  readonly step: number
  readonly name: DemoStepName
  readonly ok: boolean
  /** The step's result in one line, or the reason it failed. */
  readonly summary: string
  readonly details: readonly string[]
  readonly data: { readonly [key: string]: DemoValue }
}

/** The outcome of the demo. */
export interface DemoResult {
  /**
   * 0 when every step did what it should, `DEMO_EXIT_INTERRUPTED` when interrupted, else
   * `DEMO_EXIT_BASE` plus the failed step.
   */
  readonly exitCode: number
  readonly steps: readonly DemoStepEvent[]
  /** The step that failed, if any. */
  readonly failed?: DemoStepEvent
  /** The temporary folder, when step 1 made one. */
  readonly folder?: string
  /** Whether the folder was kept. */
  readonly kept: boolean
  /** Stops (servers, the folder's removal) that failed at the end, as `what: message`. */
  readonly cleanupFailures: readonly string[]
}

/** Thrown by a step wrapper after reporting the failure, to skip the remaining steps. */
class StepStopped extends Error {}

/** Runs one step: its body returns a value for later steps and the report of what it did. */
type StepRunner = <T>(
  name: DemoStepName,
  body: () => Promise<{ value: T; report: StepReport }>,
) => Promise<T>

function reasonOf(error: unknown): string {
  if (error instanceof ConfideError) return `${error.message} (${error.code})`
  if (error instanceof Error) return error.message

  return String(error)
}

/** Returns a step runner that reports each step into `steps` and to `onStep`. */
function stepRunner(options: DemoOptions, steps: DemoStepEvent[]): StepRunner {
  const report = (event: DemoStepEvent) => {
    steps.push(event)
    options.onStep?.(event)
  }

  return async (name, body) => {
    const step = DEMO_STEPS.indexOf(name) + 1
    try {
      if (options.signal?.aborted === true) throw new DemoStepFailure('interrupted')
      const { value, report: done } = await body()
      report({
        step,
        name,
        ok: true,
        summary: done.summary,
        details: done.details ?? [],
        data: done.data,
      })
      return value
    } catch (error) {
      const data = error instanceof DemoStepFailure ? error.data : {}
      report({ step, name, ok: false, summary: reasonOf(error), details: [], data })
      throw new StepStopped()
    }
  }
}

/** Runs the seven steps. Each one that starts a server or a folder adds its stop to `stops`. */
async function runSteps(
  options: DemoOptions,
  run: StepRunner,
  stops: StopList,
  onFolder: (folder: string) => void,
): Promise<void> {
  const measurements = {
    policy: options.policyMeasurement ?? DEMO_MEASUREMENT,
    other: options.otherMeasurement ?? OTHER_MEASUREMENT,
  }
  const workspace = await run('workspace', () => createWorkspace({ ...options, stops, onFolder }))
  const service = await run('service', () => startDemoService(workspace, options.port ?? 0, stops))
  const stored = await run('policy', () => storeSecretAndPolicy(service, workspace, measurements))
  await run('secret', () => releaseSecret(service, workspace, stored, DEMO_MEASUREMENT))
  const ratls = await run('ratls', () =>
    runRatls(workspace, DEMO_MEASUREMENT, stored.policy, stops),
  )
  await run('output', () => runAttestedOutput(workspace, DEMO_MEASUREMENT, stored.policy))
  await run('audit', () => auditAndStop(service, ratls))
}

/**
 * Runs the demo. Resolves (never rejects for a failed step) once everything it started is
 * stopped; the result's exit code names the first step that failed.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const stops = new StopList()
  const steps: DemoStepEvent[] = []
  let folder: string | undefined
  let cleanupFailures: string[] = []
  try {
    await runSteps(options, stepRunner(options, steps), stops, (made) => {
      folder = made
    })
  } catch (error) {
    if (!(error instanceof StepStopped)) throw error
  } finally {
    // Runs on success, on a failed step, and on an unexpected error alike.
    cleanupFailures = await stops.stopAll()
  }

  const failed = steps.find((event) => !event.ok)
  let exitCode = 0
  // An interrupted run exits as a shell reports SIGINT, so it is not taken for a failed step.
  if (options.signal?.aborted === true) exitCode = DEMO_EXIT_INTERRUPTED
  else if (failed !== undefined) exitCode = DEMO_EXIT_BASE + failed.step
  else if (cleanupFailures.length > 0) exitCode = DEMO_EXIT_BASE + DEMO_STEPS.length

  return {
    exitCode,
    steps,
    ...(failed === undefined ? {} : { failed }),
    ...(folder === undefined ? {} : { folder }),
    kept: options.keep === true && folder !== undefined,
    cleanupFailures,
  }
}
