/**
 * Timing of the steps of one KBS exchange: the broker's steps called in this process on a SQLite
 * file (no HTTP, no server), the client's own work, and the parts of the attest and resource
 * steps timed alone. Each figure is the median of sequential calls, in microseconds.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { exportJWK, flattenedDecrypt, generateKeyPair } from 'jose'
import { appraise } from '../src/appraisal/appraise.js'
import { KbsBroker } from '../src/kbs/broker.js'
import { ResourceSealer } from '../src/kbs/envelope.js'
import { verifyKbsEvidence } from '../src/kbs/evidence.js'
import { sealToTeeKey } from '../src/kbs/jwe.js'
import { parseKbsAttestation, parseKbsRequest } from '../src/kbs/protocol.js'
import { runtimeDataDigest } from '../src/kbs/runtime-data.js'
import { signKbsToken } from '../src/kbs/token.js'
import { simEvidence } from '../src/platforms/sim/attester.js'
import type { SimKey } from '../src/platforms/sim/dev-key.js'
import { openStore } from '../src/store/open.js'
import { printTable } from './harness.js'

/** Exchanges timed step by step, after as many unmeasured. */
const EXCHANGES = 500

type Step =
  | 'client: TEE key'
  | 'client: evidence'
  | 'client: JWE decrypt'
  | 'broker: auth'
  | 'broker: attest'
  | 'broker: resource'
  | 'part: verify sim evidence'
  | 'part: appraise + sign EAR'
  | 'part: JWE to TEE key'

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)

  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** Times `run`, adding the microseconds it took to `step`. */
async function timed<T>(times: Map<Step, number[]>, step: Step, run: () => Promise<T>): Promise<T> {
  const start = performance.now()
  const value = await run()
  const list = times.get(step) ?? []
  list.push((performance.now() - start) * 1000)
  times.set(step, list)

  return value
}

/** Runs one exchange through the broker, timing each step and its parts. */
async function exchange(
  broker: KbsBroker,
  simKey: SimKey,
  trustedKeys: Uint8Array[],
  times: Map<Step, number[]>,
): Promise<void> {
  const client = { address: '127.0.0.1' }
  const request = parseKbsRequest({ version: '0.4.0', tee: 'sim', 'extra-params': '' })
  const { challenge, sessionId } = await timed(times, 'broker: auth', () =>
    broker.auth(request, client),
  )
  const { privateKey, publicKey } = await timed(times, 'client: TEE key', () =>
    generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true }),
  )
  const jwk = await exportJWK(publicKey)
  const teePubkey = {
    kty: 'EC' as const,
    crv: 'P-256',
    alg: 'ECDH-ES+A256KW',
    x: `${jwk.x}`,
    y: `${jwk.y}`,
  }
  const digest = runtimeDataDigest(
    { nonce: challenge.nonce, teePubkey, additionalEvidence: '' },
    'sim',
  )
  const evidence = await timed(times, 'client: evidence', async () =>
    simEvidence(simKey, { reportData: digest }),
  )
  const attestation = parseKbsAttestation({
    'runtime-data': { nonce: challenge.nonce, 'tee-pubkey': teePubkey },
    'tee-evidence': {
      primary_evidence: JSON.parse(new TextDecoder().decode(evidence)),
      additional_evidence: '',
    },
  })
  await timed(times, 'broker: attest', () => broker.attest(sessionId, attestation, client))
  const sealed = await timed(times, 'broker: resource', () =>
    broker.resource({ sessionId }, { repository: 'bench', type: 'key', tag: 'db' }, client),
  )
  await timed(times, 'client: JWE decrypt', () => flattenedDecrypt(sealed as never, privateKey))

  // The parts of attest and resource, alone, on the same inputs.
  const at = new Date()
  const result = await timed(times, 'part: verify sim evidence', () =>
    verifyKbsEvidence(evidence, 'sim', { at, expectedReportData: digest, trustedKeys }),
  )
  await timed(times, 'part: appraise + sign EAR', () => {
    const appraisal = appraise(result, POLICY, { at })
    return signKbsToken(
      {
        appraisal,
        nonce: challenge.nonce,
        teePubkey,
        issuedAt: at,
        expiresAt: new Date(at.getTime() + 300_000),
        verifier: { build: 'bench', developer: 'bench' },
      },
      SIGNER,
    )
  })
  await timed(times, 'part: JWE to TEE key', () => sealToTeeKey(randomBytes(32), teePubkey))
}

const POLICY = { id: 'bench-sim', platforms: ['sim'], allowSimulated: true }
const SIGNER = {
  key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  alg: 'ES256' as const,
  kid: 'bench',
}

/** Prints the median time of each step of an exchange through the broker on a SQLite file. */
export async function measureSteps(simKey: SimKey, storeFile: string): Promise<void> {
  const store = await openStore(storeFile)
  const trustedKeys = [simKey.publicKeySpki]
  try {
    const broker = new KbsBroker({
      store,
      sealer: new ResourceSealer(randomBytes(32)),
      signer: SIGNER,
      verify: (evidence, tee, options) =>
        verifyKbsEvidence(evidence, tee, { ...options, trustedKeys }),
    })
    await broker.setAttestationPolicy(POLICY, 'bench')
    await broker.setResourcePolicy('*', POLICY, 'bench')
    await broker.setResource(
      { repository: 'bench', type: 'key', tag: 'db' },
      randomBytes(32),
      'bench',
    )
    for (let i = 0; i < EXCHANGES; i++) await exchange(broker, simKey, trustedKeys, new Map())
    const times = new Map<Step, number[]>()
    for (let i = 0; i < EXCHANGES; i++) await exchange(broker, simKey, trustedKeys, times)

    console.log(`Steps of one exchange, in this process on a SQLite file: median of ${EXCHANGES}`)
    printTable(
      ['step', 'µs'],
      [...times].map(([step, values]) => [step, median(values).toFixed(0)]),
    )
  } finally {
    await store.close()
  }
}
