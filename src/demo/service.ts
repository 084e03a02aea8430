/**
 * Step 2 of the demo. It starts the confide service through the library, as `confide serve`
 * does, on 127.0.0.1 with its SQLite store and keys in the demo's folder. It also provides the
 * admin client that later steps use. Node only.
 *
 * @module
 */
import { mintAdminToken } from '../server/admin-token.js'
import { type RunningServer, startServer } from '../server/start.js'
import { DemoStepFailure, type StepReport, type StopList } from './context.js'
import type { Workspace } from './workspace.js'

/** Lifetime of the demo's admin token: ten minutes, well past the demo's run. */
const ADMIN_TOKEN_TTL_SECONDS = 600

/** Milliseconds an admin request may take. */
const ADMIN_TIMEOUT_MS = 30_000

/** The listening service, and an admin client for it. */
export interface DemoService {
  readonly running: RunningServer
  readonly url: string
  /** Sends an admin request with the demo's admin token; returns the status and body text. */
  admin(method: 'GET' | 'POST', path: string, body?: Uint8Array | object): Promise<AdminResponse>
  /** Stops the service (once): no new connections, finish requests in flight, close the store. */
  stop(): Promise<void>
}

export interface AdminResponse {
  readonly status: number
  readonly text: string
}

/** Returns the request body and its content type. */
function encodeBody(body: Uint8Array | object): { bytes: Uint8Array; type: string } {
  if (body instanceof Uint8Array) return { bytes: body, type: 'application/octet-stream' }

  return { bytes: new TextEncoder().encode(JSON.stringify(body)), type: 'application/json' }
}

/** Starts the service on `port` (0 picks a free one). */
export async function startDemoService(
  workspace: Workspace,
  port: number,
  stops: StopList,
): Promise<{ value: DemoService; report: StepReport }> {
  const running = await startServer({
    port,
    host: '127.0.0.1',
    store: workspace.store,
    adminKey: workspace.adminPublicKeyFile,
    offline: true,
    logger: false,
    env: workspace.env,
    handleSignals: false,
  })
  const stop = stops.add('service', () => running.close())
  const token = await mintAdminToken(workspace.adminKey, {
    subject: 'confide-demo',
    ttlSeconds: ADMIN_TOKEN_TTL_SECONDS,
  })
  const admin = async (method: 'GET' | 'POST', path: string, body?: Uint8Array | object) => {
    const encoded = body === undefined ? undefined : encodeBody(body)
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(encoded === undefined ? {} : { 'content-type': encoded.type }),
      },
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
      ...(encoded === undefined ? {} : { body: encoded.bytes }),
    })

    return { status: response.status, text: await response.text() }
  }
  const health = await fetch(`${running.url}/readyz`, { signal: AbortSignal.timeout(5_000) })
  await health.body?.cancel()
  if (!health.ok) throw new DemoStepFailure(`GET /readyz returned HTTP ${health.status}`)

  return {
    value: { running, url: running.url, admin, stop },
    report: {
      summary: `confide service listening on ${running.url}, SQLite store in the folder`,
      details: ['admin API: EdDSA admin token signed with the demo admin key'],
      data: { url: running.url, store: workspace.store },
    },
  }
}

/** Throws a step failure unless an admin response has a 2xx status. */
export function expectSuccess(request: string, response: AdminResponse): void {
  if (response.status >= 200 && response.status < 300) return
  throw new DemoStepFailure(
    `${request} returned HTTP ${response.status}: ${response.text.slice(0, 300)}`,
  )
}
