/**
 * Step 5 of the demo. The workload serves HTTPS on 127.0.0.1 with an RA-TLS certificate, which
 * carries sim evidence in the TCG DICE tagged-evidence extension. A client verifies the
 * certificate and appraises its evidence under the demo policy during the handshake, then sends
 * a request. Node only.
 *
 * @module
 */
import { once } from 'node:events'
import { createServer, request } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Policy } from '../appraisal/policy.js'
import { toHex } from '../core/bytes.js'
import { createRatlsCertificate } from '../ratls/certificate.js'
import { RatlsAgent, ratlsServerOptions } from '../ratls/tls.js'
import type { RatlsVerdict } from '../ratls/verify.js'
import { DemoStepFailure, type StepReport, type StopList, shortHex } from './context.js'
import { workloadAttester } from './workload.js'
import type { Workspace } from './workspace.js'

const HOST = '127.0.0.1'
/** The workload's response body to `GET /hello`. */
const GREETING = 'hello from the attested workload'
/** Milliseconds the client's request may take. */
const REQUEST_TIMEOUT_MS = 30_000

/** A handle on the RA-TLS server for the last step, which stops it. */
export interface DemoRatlsServer {
  readonly port: number
  stop(): Promise<void>
}

/** Starts the workload's HTTPS server on port 0 and returns its port and stop function. */
async function serveWorkload(workspace: Workspace, measurement: Uint8Array, stops: StopList) {
  const credentials = await createRatlsCertificate({
    attester: workloadAttester(workspace.simKey, measurement),
    encoding: 'tcg-dice',
    commonName: 'confide demo workload',
  })
  const server = createServer(ratlsServerOptions(credentials), (incoming, response) => {
    response.setHeader('content-type', 'text/plain')
    response.end(incoming.url === '/hello' ? GREETING : 'not found')
  })
  server.listen(0, HOST)
  await once(server, 'listening')
  const stop = stops.add('RA-TLS server', async () => {
    const closed = once(server, 'close')
    server.closeAllConnections()
    server.close()
    await closed
  })

  return { port: (server.address() as AddressInfo).port, stop }
}

/** Sends `GET /hello` through the agent and returns the body. */
function get(port: number, agent: RatlsAgent): Promise<string> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: HOST, port, path: '/hello', agent, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () => resolve(body))
        response.on('error', reject)
      },
    )
    outgoing.on('timeout', () => outgoing.destroy(new Error('the request timed out')))
    outgoing.on('error', reject)
    outgoing.end()
  })
}

/** Serves RA-TLS as the workload with `measurement`, then connects as a client under `policy`. */
export async function runRatls(
  workspace: Workspace,
  measurement: Uint8Array,
  policy: Policy,
  stops: StopList,
): Promise<{ value: DemoRatlsServer; report: StepReport }> {
  const { port, stop } = await serveWorkload(workspace, measurement, stops)
  let verdict: RatlsVerdict | undefined
  const peer = { verify: { trustedKeys: [workspace.simKey.publicKeySpki] }, policy }
  const agent = new RatlsAgent(peer, {
    onVerdict: (judged) => {
      verdict = judged
    },
  })
  let body: string
  try {
    body = await get(port, agent)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new DemoStepFailure(`the client rejected the workload: ${reason}`)
  } finally {
    agent.destroy()
  }
  const accepted = verdict?.evidence?.claims.measurement
  if (verdict?.accepted !== true || accepted === undefined)
    throw new DemoStepFailure('the client received a response without an accepted verdict')
  if (body !== GREETING)
    throw new DemoStepFailure(
      `the workload responded ${JSON.stringify(body)}, not ${JSON.stringify(GREETING)}`,
    )

  const checks = verdict.checks.map((check) => `${check.name} ${check.status}`)
  return {
    value: { port, stop },
    report: {
      summary: `workload serves https://${HOST}:${port} with an RA-TLS certificate (TCG DICE evidence)`,
      details: [
        `client accepted measurement ${shortHex(accepted)} under policy ${policy.id} in the handshake`,
        `checks: ${checks.join(', ')}`,
        `GET /hello → ${JSON.stringify(body)}`,
      ],
      data: {
        port,
        encoding: 'tcg-dice',
        measurement: accepted,
        expected: toHex(measurement),
        policyId: policy.id,
        checks: verdict.checks.map((check) => ({ name: check.name, status: check.status })),
        response: body,
      },
    },
  }
}
