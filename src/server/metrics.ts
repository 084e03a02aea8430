/**
 * Prometheus metrics of one server, in a registry of its own so that several servers in one
 * process (tests) keep separate counts.
 *
 * @module
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

/** The metrics a server records. */
export interface ServerMetrics {
  readonly registry: Registry
  /** Verifications by platform and verdict (`valid`, `invalid`, `indeterminate`). */
  readonly verifications: Counter<'platform' | 'verdict'>
  /** KBS resource requests by decision (`release` or `refuse`) and HTTP status. */
  readonly kbsDecisions: Counter<'decision' | 'status'>
  /** Collateral items obtained for verifications, by origin (`cache`, `network`, `stale-cache`, `failed`). */
  readonly collateralItems: Counter<'origin'>
  /** Request latencies by method, route pattern and status. */
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>
}

/** Latency buckets in seconds: 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Creates the metrics of one server, with Node's process metrics in the same registry. */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]

  return {
    registry,
    verifications: new Counter({
      name: 'confide_verifications_total',
      help: 'Evidence verifications, by platform and verdict.',
      labelNames: ['platform', 'verdict'],
      registers,
    }),
    kbsDecisions: new Counter({
      name: 'confide_kbs_resource_requests_total',
      help: 'KBS resource requests, by decision (release or refuse) and HTTP status.',
      labelNames: ['decision', 'status'],
      registers,
    }),
    collateralItems: new Counter({
      name: 'confide_collateral_items_total',
      help: 'Collateral items obtained for verifications, by origin; origin="cache" counts cache hits.',
      labelNames: ['origin'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'confide_http_request_duration_seconds',
      help: 'HTTP request latency, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  }
}
