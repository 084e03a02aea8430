/**
 * Fetching the collateral a piece of evidence needs, as a step before verification: the result is
 * a bundle that `verifyEvidence` takes as `collateral`, so verification itself does no I/O.
 *
 * @module
 */
import { CollateralBundle } from '../core/collateral-bundle.js'
import type { CollateralError } from '../core/errors.js'
import { createPlatformRegistry, type PlatformRegistry } from '../core/registry.js'
import { defaultPlatforms } from '../platforms/index.js'
import { CollateralFetchError } from './fetch-error.js'
import type { CollateralFetcher, ItemOrigin } from './fetcher.js'
import type { CollateralPlanner, PlannedItem } from './plan.js'
import { defaultPlanners } from './planners.js'

/**
 * Rounds of planning. A version 2 SEV-SNP report needs two: its VCEK names the product that
 * the chain and CRL are fetched for.
 */
const MAX_PLANNING_ROUNDS = 4

/** Outcome of one item. */
export interface ItemOutcome {
  readonly key: string
  readonly label: string
  readonly optional: boolean
  /** Source of the item (`cache`, `network`, `stale-cache`), or `failed`. */
  readonly origin: ItemOrigin | 'failed'
  /** The URL the item was fetched from, when known. */
  readonly url?: string
  /** Bundle paths the item filled. Paths the caller already had are left as given. */
  readonly files: readonly string[]
  /** Reason the item failed, or for a stale copy the reason no fresh one could be had. */
  readonly error?: CollateralError
}

/** The collateral of one piece of evidence. */
export interface FetchCollateralResult {
  /** Name of the platform the evidence is for. */
  readonly platform: string
  /** The caller's files plus every file obtained. */
  readonly bundle: CollateralBundle
  readonly outcomes: readonly ItemOutcome[]
  /** Whether every item that is not optional was obtained. */
  readonly complete: boolean
}

/** Options of `fetchCollateral`. */
export interface FetchCollateralOptions {
  readonly fetcher: CollateralFetcher
  /** Collateral the caller already has. Its files win over fetched ones. Default: none. */
  readonly collateral?: CollateralBundle
  /** Platform name, such as `tdx`. Absent: detected from the bytes. */
  readonly platform?: string
  /** Platforms to detect from. Default: every platform confide ships. */
  readonly registry?: PlatformRegistry
  /** Default: every planner confide ships. */
  readonly planners?: readonly CollateralPlanner[]
  /** Called once per item as soon as it is obtained or has failed. */
  readonly onItem?: (outcome: ItemOutcome) => void
}

let defaultRegistry: PlatformRegistry | undefined

function filesOf(bundle: CollateralBundle | undefined): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>()
  for (const path of bundle?.find(/(?:)/) ?? []) {
    const bytes = bundle?.get(path)
    if (bytes !== undefined) files.set(path, bytes)
  }
  return files
}

async function obtain(
  item: PlannedItem,
  fetcher: CollateralFetcher,
  files: Map<string, Uint8Array>,
): Promise<ItemOutcome> {
  const base = { key: item.key, label: item.label, optional: item.optional }
  try {
    const { record, origin, warning } = await fetcher.obtain(item)
    const added: string[] = []
    for (const [path, bytes] of item.files(record)) {
      if (files.has(path)) continue
      files.set(path, bytes)
      added.push(path)
    }
    return {
      ...base,
      origin,
      url: record.url,
      files: added,
      ...(warning ? { error: warning } : {}),
    }
  } catch (error) {
    if (!(error instanceof CollateralFetchError)) throw error
    return {
      ...base,
      origin: 'failed',
      ...(error.url === undefined ? {} : { url: error.url }),
      files: [],
      error,
    }
  }
}

/**
 * Obtains the collateral `bytes` needs that `options.collateral` lacks, through the fetcher's cache
 * and sources, and returns it as one bundle with the caller's files. An item that cannot be
 * obtained is reported in `outcomes`, not thrown: verifying with the bundle then skips the
 * checks that needed it, so the verdict is "indeterminate" (could not be judged), never "invalid". Evidence
 * of a platform without a planner (Nitro) needs nothing and gets the caller's files back.
 *
 * @throws ParseError when the evidence cannot be decoded; ConfigError for an unknown platform.
 */
export async function fetchCollateral(
  bytes: Uint8Array,
  options: FetchCollateralOptions,
): Promise<FetchCollateralResult> {
  defaultRegistry ??= createPlatformRegistry(defaultPlatforms())
  const registry = options.registry ?? defaultRegistry
  const platform =
    options.platform === undefined ? registry.detect(bytes) : registry.get(options.platform)
  // The platform's own parser rejects evidence of another TEE before anything is fetched.
  platform.parse(bytes)
  const planner = (options.planners ?? defaultPlanners()).find((candidate) =>
    candidate.platforms.includes(platform.name),
  )
  const files = filesOf(options.collateral)
  const outcomes: ItemOutcome[] = []
  const planned = new Set<string>()

  for (let round = 0; planner !== undefined && round < MAX_PLANNING_ROUNDS; round++) {
    const items = planner
      .plan(bytes, new CollateralBundle(files))
      .filter((item) => !planned.has(item.key))
    if (items.length === 0) break
    for (const item of items) planned.add(item.key)
    const results = await Promise.all(
      items.map(async (item) => {
        const outcome = await obtain(item, options.fetcher, files)
        options.onItem?.(outcome)
        return outcome
      }),
    )
    outcomes.push(...results)
  }

  return {
    platform: platform.name,
    bundle: new CollateralBundle(files),
    outcomes,
    complete: outcomes.every((outcome) => outcome.optional || outcome.origin !== 'failed'),
  }
}
