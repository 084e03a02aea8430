/**
 * Verification of composite evidence: each component by its own platform, found by name in the
 * platform list, and then the binding between them. The checks are:
 *
 * 1. `submod:<label>`, one per component in document order: passes when the component's result
 *    is valid, fails (with the code of its first failed check) when invalid, and is skipped when
 *    indeterminate. The component's full result is `submods[label]`.
 * 2. `nonce-binding`, when exactly one component has report data (the CPU TEE) and the others
 *    carry nonces (`claims.raw.nonce`, or `claims.raw.requestNonce` as NVIDIA GPUs name it):
 *    the report data binds the device nonces (see {@link findNonceBinding}). When it does not,
 *    the check is left out, or fails if the platform was created with `requireNonceBinding`.
 *
 * Each component receives the caller's options, except for the expected values and collateral:
 * - `expectedReportData` and `expectedUserData` go to the components whose platform reads them.
 * - `expectedNonce` is the devices' nonce: it goes to the components whose platform reads a nonce
 *   but no report data (GPUs, Nitro), or, when there are none, to every component that reads it.
 * - Collateral files under `<label>/` go only to that component (without the prefix), and files
 *   under no component's label go to every component. Collateral the document carries for a
 *   component is added to its bundle, and the caller's files win over it.
 *
 * @module
 */
import { bytesEqual, concatBytes, fromHex } from '../../core/bytes.js'
import { CollateralBundle } from '../../core/collateral-bundle.js'
import { ConfigError, ParseError } from '../../core/errors.js'
import type { Expectation, Platform, VerifyContext } from '../../core/platform.js'
import { createPlatformRegistry } from '../../core/registry.js'
import { CheckList } from '../../core/result.js'
import type { VerificationResult } from '../../core/types.js'
import type { DigestAlgorithm } from '../../crypto/port.js'
import type { CompositeComponent } from './format.js'
import type { CompositeVerificationResult } from './result.js'

/** Options of composite verification beside the per-call context. */
export interface CompositeVerifyOptions {
  /** The platforms components may name or be detected as. */
  readonly platforms: readonly Platform[]
  /** Fail when the CPU's report data does not bind the device nonces. Default: false. */
  readonly requireNonceBinding?: boolean
}

const EXPECTATIONS: readonly Expectation[] = [
  'expectedReportData',
  'expectedNonce',
  'expectedUserData',
]
const BINDING_HASHES: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-384', 'SHA-512']
/** Shortest nonce that the shared-nonce rule accepts, so a short value cannot match by chance. */
const MIN_SHARED_NONCE_SIZE = 16

/**
 * Collects a component's collateral: the caller's files under `<label>/` (without the prefix),
 * the caller's files under no component's label, and the files the document carries. The
 * caller's own files win over the shared ones, and both win over the document's.
 */
function componentCollateral(
  component: CompositeComponent,
  labels: ReadonlySet<string>,
  bundle: CollateralBundle | undefined,
): CollateralBundle | undefined {
  const files = new Map<string, Uint8Array>(component.collateral)
  const own: [string, Uint8Array][] = []
  for (const path of bundle?.find(/.*/) ?? []) {
    const bytes = bundle?.get(path)
    const slash = path.indexOf('/')
    const owner = slash < 0 ? undefined : path.slice(0, slash)
    if (bytes === undefined) continue
    if (owner === component.label) own.push([path.slice(slash + 1), bytes])
    else if (owner === undefined || !labels.has(owner)) files.set(path, bytes)
  }
  for (const [path, bytes] of own) files.set(path, bytes)

  return files.size === 0 ? undefined : new CollateralBundle(files)
}

/** Tells whether a platform reads a nonce but no report data, as a device does. */
function isDevice(platform: Platform): boolean {
  return (
    platform.expectations.includes('expectedNonce') &&
    !platform.expectations.includes('expectedReportData')
  )
}

/** Builds the context of one component: the caller's, with the expected values routed to it. */
function componentContext(
  component: CompositeComponent,
  platform: Platform,
  devicesPresent: boolean,
  labels: ReadonlySet<string>,
  context: VerifyContext,
): VerifyContext {
  const { expectedNonce, expectedReportData, expectedUserData, collateral, ...rest } = context
  const expected = { expectedNonce, expectedReportData, expectedUserData }
  const bundle = componentCollateral(component, labels, collateral)
  const chosen: Partial<Record<Expectation, Uint8Array>> = {}
  for (const name of EXPECTATIONS) {
    const value = expected[name]
    if (value === undefined || !platform.expectations.includes(name)) continue
    if (name === 'expectedNonce' && devicesPresent && !isDevice(platform)) continue
    chosen[name] = value
  }
  return { ...rest, ...chosen, ...(bundle === undefined ? {} : { collateral: bundle }) }
}

/** Rejects an expected value that no component's platform can compare. */
function checkExpectationsUsed(platforms: readonly Platform[], context: VerifyContext): void {
  for (const name of EXPECTATIONS) {
    if (context[name] === undefined) continue
    if (!platforms.some((platform) => platform.expectations.includes(name))) {
      const message = `no component of the composite evidence has a field for ${name}; remove it`
      throw new ConfigError('ERR_CONFIG_INVALID', message)
    }
  }
}

function platformFor(component: CompositeComponent, platforms: readonly Platform[]): Platform {
  const registry = createPlatformRegistry(platforms)
  try {
    return component.platform === undefined
      ? registry.detect(component.evidence)
      : registry.get(component.platform)
  } catch (error) {
    if (error instanceof ParseError) {
      throw new ParseError(
        error.code,
        `component ${component.label}: ${error.message}`,
        { structure: 'CompositeEvidence', field: component.label },
        { cause: error },
      )
    }
    throw error
  }
}

function parseComponent(component: CompositeComponent, platform: Platform): unknown {
  try {
    return platform.parse(component.evidence)
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    const location = {
      structure: error.structure,
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(error.offset === undefined ? {} : { offset: error.offset }),
    }
    throw new ParseError(
      error.code,
      `component ${component.label} (${platform.name}): ${error.message}`,
      location,
      { cause: error },
    )
  }
}

function summarize(label: string, result: VerificationResult, checks: CheckList): void {
  const name = `submod:${label}`
  const failed = result.checks.find((check) => check.status === 'fail')
  if (failed !== undefined) {
    checks.fail(
      name,
      failed.code ?? 'ERR_VERIFY_BINDING',
      `${result.platform} evidence is invalid: ${failed.name}: ${failed.detail}`,
    )
    return
  }
  const skipped = result.checks
    .filter((check) => check.status === 'skipped')
    .map((check) => check.name)
  if (skipped.length > 0)
    checks.skip(
      name,
      `${result.platform} evidence could not be fully verified: ${skipped.join(', ')} skipped`,
    )
  else
    checks.pass(
      name,
      `${result.platform} evidence is valid (${result.checks.length} checks passed)`,
    )
}

/** Orders labels by UTF-16 code units, the same in every locale. */
function compareLabels(a: string, b: string): number {
  if (a < b) return -1
  if (a > b) return 1
  return 0
}

/** Claim names of a device's nonce, in `claims.raw`: Nitro's `nonce`, NVIDIA's `requestNonce`. */
const NONCE_CLAIMS = ['nonce', 'requestNonce'] as const

function nonceOf(result: VerificationResult): Uint8Array | undefined {
  const raw = result.claims.raw
  const nonce = NONCE_CLAIMS.map((name) => raw[name]).find(
    (value) => value !== undefined && value !== null,
  )
  if (typeof nonce !== 'string' || nonce === '') return undefined
  try {
    return fromHex(nonce)
  } catch {
    // A nonce claim that is not hex binds nothing.
    return undefined
  }
}

/** The binding of the device nonces by the CPU's report data, as {@link findNonceBinding} finds it. */
export interface NonceBinding {
  /** The CPU component. */
  readonly cpu: string
  /** The device components, in label order. */
  readonly devices: readonly string[]
  /** `shared-nonce`, or `<hash>-of-nonces` such as `sha-512-of-nonces`. */
  readonly rule: string
}

/**
 * Finds how the one component with report data binds the nonces of the others:
 * - `shared-nonce`: every device nonce is the same value (of 16 bytes or more), and the report
 *   data starts with it;
 * - `sha-256-of-nonces`, `sha-384-of-nonces`, `sha-512-of-nonces`: the report data starts with
 *   that digest of the device nonces concatenated in label order (by UTF-16 code units).
 * Returns undefined when the components are not one CPU and devices, or no rule matches.
 */
export async function findNonceBinding(
  results: ReadonlyMap<string, VerificationResult>,
  context: VerifyContext,
): Promise<NonceBinding | undefined> {
  const cpus = [...results].filter(([, result]) => result.claims.reportData !== undefined)
  const devices = [...results]
    .filter(([, result]) => result.claims.reportData === undefined && nonceOf(result) !== undefined)
    .sort(([a], [b]) => compareLabels(a, b))
  const [cpu] = cpus
  if (cpus.length !== 1 || cpu === undefined || devices.length === 0) return undefined
  const reportData = fromHex(cpu[1].claims.reportData ?? '')
  const nonces = devices.map(([, result]) => nonceOf(result)!)
  const labels = devices.map(([label]) => label)
  const [first] = nonces
  const shared =
    first !== undefined &&
    first.length >= MIN_SHARED_NONCE_SIZE &&
    nonces.every((nonce) => bytesEqual(nonce, first))
  if (shared && bytesEqual(reportData.subarray(0, first.length), first)) {
    return { cpu: cpu[0], devices: labels, rule: 'shared-nonce' }
  }
  const joined = concatBytes(...nonces)
  for (const hash of BINDING_HASHES) {
    const digest = await context.crypto.digest(hash, joined)
    if (bytesEqual(reportData.subarray(0, digest.length), digest)) {
      return { cpu: cpu[0], devices: labels, rule: `${hash.toLowerCase()}-of-nonces` }
    }
  }
  return undefined
}

async function checkNonceBinding(
  results: ReadonlyMap<string, VerificationResult>,
  options: CompositeVerifyOptions,
  context: VerifyContext,
  checks: CheckList,
): Promise<NonceBinding | undefined> {
  const binding = await findNonceBinding(results, context)
  if (binding !== undefined) {
    const detail = `the report data of ${binding.cpu} binds the nonces of ${binding.devices.join(', ')} (${binding.rule})`
    checks.pass('nonce-binding', detail)
  } else if (options.requireNonceBinding === true) {
    const detail =
      'no component with report data binds the nonces of the others (shared nonce, or SHA-256/384/512 of the nonces)'
    checks.fail('nonce-binding', 'ERR_VERIFY_BINDING', detail)
  }
  return binding
}

/**
 * Verifies the components of composite evidence (see the module comment for the checks) and
 * returns one result with a sub-result per component.
 *
 * @throws ParseError when a component cannot be decoded or its platform detected, naming the
 *   component; ConfigError for an unknown platform name or an expected value no component reads.
 */
export async function verifyCompositeComponents(
  components: readonly CompositeComponent[],
  context: VerifyContext,
  options: CompositeVerifyOptions,
): Promise<CompositeVerificationResult> {
  const platforms = components.map((component) => platformFor(component, options.platforms))
  checkExpectationsUsed(platforms, context)
  const checks = new CheckList()
  const results = new Map<string, VerificationResult>()
  const devicesPresent = platforms.some(isDevice)
  const labels = new Set(components.map((component) => component.label))
  for (const [index, component] of components.entries()) {
    const platform = platforms[index]!
    const evidence = parseComponent(component, platform)
    const result = await platform.verify(
      evidence,
      componentContext(component, platform, devicesPresent, labels, context),
    )
    results.set(component.label, result)
    summarize(component.label, result, checks)
  }
  const binding = await checkNonceBinding(results, options, context, checks)
  const advisories = [...new Set([...results.values()].flatMap((result) => result.advisories))]

  return {
    platform: 'composite',
    verdict: checks.verdict(),
    advisories,
    claims: {
      platform: 'composite',
      raw: {
        components: Object.fromEntries(
          [...results].map(([label, result]) => [label, result.platform]),
        ),
        nonceBinding:
          binding === undefined
            ? null
            : { cpu: binding.cpu, devices: [...binding.devices], rule: binding.rule },
      },
    },
    checks: checks.checks,
    verifiedAt: context.at.toISOString(),
    submods: Object.fromEntries(results),
  }
}

/** Concatenates device nonces in label order: the input that the `*-of-nonces` rules digest. */
export function nonceBindingInput(nonces: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const labels = [...nonces.keys()].sort(compareLabels)
  return concatBytes(...labels.map((label) => nonces.get(label)!))
}
