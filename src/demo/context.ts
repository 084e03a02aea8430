/**
 * Shared parts of the `confide demo` steps: the measurements and policy of the demo workload, the
 * report each step returns, and the list of things to stop at the end. Node only.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Policy } from '../appraisal/policy.js'
import { toHex } from '../core/bytes.js'

/** The resource the demo stores and releases, as `repository/type/tag`. */
export const DEMO_RESOURCE = 'default/demo/key'

/** ID of the resource policy the demo stores. */
export const DEMO_POLICY_ID = 'confide-demo:workload'

function sha384(text: string): Uint8Array {
  return new Uint8Array(createHash('sha384').update(text, 'utf8').digest())
}

/** Launch measurement (mrTd) of the demo workload: SHA-384 of `confide demo workload`. */
export const DEMO_MEASUREMENT = sha384('confide demo workload')

/** Launch measurement of a modified build of it, which the policy does not name. */
export const OTHER_MEASUREMENT = sha384('confide demo workload (modified)')

/**
 * Returns the resource policy of the demo: simulated evidence from the `sim` platform, whose
 * launch measurement equals `measurement`.
 */
export function demoPolicy(measurement: Uint8Array): Policy {
  return {
    id: DEMO_POLICY_ID,
    platforms: ['sim'],
    allowSimulated: true,
    referenceValues: {
      require: ['measurement'],
      values: [
        {
          platform: 'sim',
          claim: 'measurement',
          values: [toHex(measurement)],
          provenance: { source: 'confide demo', description: 'the demo workload build' },
        },
      ],
    },
  }
}

/** A JSON value in a step's data. */
export type DemoValue =
  | string
  | number
  | boolean
  | null
  | readonly DemoValue[]
  | { readonly [key: string]: DemoValue }

/** A step's report: one summary line, a few detail lines, and the values as data. */
export interface StepReport {
  readonly summary: string
  readonly details?: readonly string[]
  readonly data: { readonly [key: string]: DemoValue }
}

/** A step did not do what it should. The message describes what happened instead. */
export class DemoStepFailure extends Error {
  /** Values that show the failure, reported with the step. */
  readonly data: { readonly [key: string]: DemoValue }

  constructor(message: string, data: { readonly [key: string]: DemoValue } = {}) {
    super(message)
    this.name = 'DemoStepFailure'
    this.data = data
  }
}

/**
 * The things the demo started, stopped in the reverse order they were added. Each stop runs
 * once, whether a step calls it or the runner does at the end.
 */
export class StopList {
  readonly #entries: { name: string; stop: () => Promise<void> }[] = []

  /** Adds a stop and returns a function that runs it (once) and removes it from the list. */
  add(name: string, stop: () => Promise<void>): () => Promise<void> {
    let running: Promise<void> | undefined
    const once = () => {
      running ??= stop()
      return running
    }
    const entry = { name, stop: once }
    this.#entries.push(entry)

    return async () => {
      const index = this.#entries.indexOf(entry)
      if (index >= 0) this.#entries.splice(index, 1)
      await once()
    }
  }

  /** Runs every remaining stop, newest first, and returns the failures as `name: message`. */
  async stopAll(): Promise<string[]> {
    const failures: string[] = []
    for (const entry of this.#entries.splice(0).reverse()) {
      try {
        await entry.stop()
      } catch (error) {
        failures.push(`${entry.name}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }

    return failures
  }
}

/** Returns the SHA-256 of bytes. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Returns the lower-case hex SHA-256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes))
}

/** Shortens a long hex value for a text line: its first 16 digits and an ellipsis. */
export function shortHex(hex: string): string {
  return hex.length <= 20 ? hex : `${hex.slice(0, 16)}…`
}
