/**
 * The demo's workloads: the simulated TEE with a chosen launch measurement, fetching the demo's
 * resource with the KBS client. Node only.
 *
 * @module
 */
import type { Attester } from '../attest/attester.js'
import { createSimAttester } from '../attest/sim.js'
import { type KbsResource, kbsGetResource } from '../kbs/client.js'
import type { SimKey } from '../platforms/sim/dev-key.js'
import { DEMO_RESOURCE } from './context.js'

/** Returns a sim attester whose evidence states `measurement` as its launch measurement. */
export function workloadAttester(simKey: SimKey, measurement: Uint8Array): Attester {
  return createSimAttester(simKey, { mrTd: measurement })
}

/** Runs the KBS exchange (auth → attest → resource) for the demo resource as that workload. */
export function fetchDemoSecret(
  url: string,
  simKey: SimKey,
  measurement: Uint8Array,
): Promise<KbsResource> {
  return kbsGetResource({
    url,
    path: DEMO_RESOURCE,
    attester: workloadAttester(simKey, measurement),
    timeoutMs: 30_000,
  })
}
