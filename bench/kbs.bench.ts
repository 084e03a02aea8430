/**
 * Load on the key broker over loopback: full KBS exchanges (auth → attest → resource) against
 * `confide serve` running as a child process, on a SQLite file and on PostgreSQL.
 *
 * - Server: `node dist/src/cli/main.js serve` on 127.0.0.1, logging at info level as in
 *   production, with the rate limit raised so that it never returns 429. PostgreSQL runs in a
 *   throwaway cluster that this bench starts (the test helper, with fsync off) and stops.
 * - Client: `kbsGetResource` with the simulated TEE attester, in this process, run by many
 *   concurrent workers. Each exchange makes a new P-256 TEE key, signs simulated evidence and
 *   decrypts the released JWE, as a workload does. Every exchange must return the stored bytes.
 * - Figures per engine and number of exchanges in flight: exchanges per second over the wall
 *   time of the level, and p50 and p99 latency of one exchange. CPU time per exchange is given
 *   for this process (client) and for the server process (read from /proc).
 * - Where the time goes: the broker's steps called in this process on a SQLite file (no HTTP),
 *   and their parts (evidence verification, EAR signing, JWE) timed alone.
 *
 * Environment: BENCH_EXCHANGES (exchanges per level, default 2000), BENCH_CONCURRENCY
 * (comma-separated levels, default 1,8,32,64), BENCH_ENGINES (default sqlite,postgres).
 * PostgreSQL is skipped when its binaries are not under /usr/lib/postgresql.
 */
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Attester } from '../src/attest/attester.js'
import { createSimAttester } from '../src/attest/sim.js'
import { kbsGetResource } from '../src/kbs/client.js'
import { generateMasterKey } from '../src/kbs/envelope.js'
import { loadSimKey, type SimKey } from '../src/platforms/sim/dev-key.js'
import { mintAdminToken } from '../src/server/admin-token.js'
import { findPostgresBin, ThrowawayCluster } from '../test/helpers/postgres.js'
import { type ServeProcess, startServeProcess } from '../test/helpers/serve-process.js'
import { printTable } from './harness.js'
import { measureSteps } from './kbs-steps.js'

/** The resource every exchange fetches, and the policy that releases it to the simulated TEE. */
const RESOURCE = 'bench/key/db'
const SIM_POLICY = { id: 'bench-sim', platforms: ['sim'], allowSimulated: true }
/** Exchanges run before the first level of each engine, unmeasured. */
const WARMUP_EXCHANGES = 200

interface Settings {
  readonly exchanges: number
  readonly levels: readonly number[]
  readonly engines: readonly string[]
}

function readSettings(): Settings {
  const exchanges = Number(process.env.BENCH_EXCHANGES ?? 2000)
  const levels = (process.env.BENCH_CONCURRENCY ?? '1,8,32,64').split(',').map(Number)
  const engines = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',')
  if (!Number.isInteger(exchanges) || exchanges < 1)
    throw new Error(`BENCH_EXCHANGES must be a positive integer, got '${exchanges}'`)
  if (levels.some((level) => !Number.isInteger(level) || level < 1))
    throw new Error(`BENCH_CONCURRENCY must list positive integers, got '${levels.join(',')}'`)

  return { exchanges, levels, engines }
}

/** One level's figures. */
interface LevelResult {
  readonly inFlight: number
  readonly exchanges: number
  readonly seconds: number
  /** Latency of each exchange in milliseconds, sorted. */
  readonly latencies: readonly number[]
  readonly clientCpuMs: number
  readonly serverCpuMs: number
}

/** Clock ticks per second of /proc/<pid>/stat times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** Returns the user + system CPU time of a process in milliseconds, from /proc. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])

  return (ticks * 1000) / CLOCK_TICKS
}

/** Runs `total` exchanges from `inFlight` workers and measures them. */
async function runLevel(
  url: string,
  attester: Attester,
  expected: Buffer,
  pid: number,
  inFlight: number,
  total: number,
): Promise<LevelResult> {
  const latencies: number[] = []
  let started = 0
  const worker = async () => {
    while (started < total) {
      started += 1
      const start = performance.now()
      const { bytes } = await kbsGetResource({ url, path: RESOURCE, attester })
      latencies.push(performance.now() - start)
      if (!expected.equals(bytes))
        throw new Error('the released resource differs from the stored one')
    }
  }
  const clientStart = process.cpuUsage()
  const serverStart = processCpuMs(pid)
  const start = performance.now()
  await Promise.all(Array.from({ length: inFlight }, worker))
  const seconds = (performance.now() - start) / 1000
  const client = process.cpuUsage(clientStart)

  return {
    inFlight,
    exchanges: total,
    seconds,
    latencies: latencies.sort((a, b) => a - b),
    clientCpuMs: (client.user + client.system) / 1000,
    serverCpuMs: processCpuMs(pid) - serverStart,
  }
}

/** Returns the value below which `fraction` of the sorted values fall (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  const rank = Math.max(1, Math.ceil(fraction * sorted.length))

  return sorted[rank - 1] ?? Number.NaN
}

/** Stores the resource and the policies that release it to the simulated TEE. */
async function provision(url: string, token: string, secret: Buffer): Promise<void> {
  const policy = Buffer.from(JSON.stringify(SIM_POLICY)).toString('base64')
  const requests: Array<[string, string, string | Buffer]> = [
    ['/kbs/v0/attestation-policy', 'application/json', JSON.stringify({ policy })],
    ['/kbs/v0/resource-policy', 'application/json', JSON.stringify({ policy, resource: '*' })],
    [`/kbs/v0/resource/${RESOURCE}`, 'application/octet-stream', secret],
  ]
  for (const [path, type, body] of requests) {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body,
    })
    if (response.status !== 200)
      throw new Error(`${path} returned ${response.status}: ${await response.text()}`)
  }
}

/** Starts `confide serve` on `store` with fresh keys in `folder`. */
async function startServer(folder: string, store: string, simKeyFile: string) {
  const masterKeyFile = join(folder, 'master-key')
  writeFileSync(masterKeyFile, `${generateMasterKey()}\n`, { mode: 0o600 })
  const admin = generateKeyPairSync('ed25519')
  const adminPublic = join(folder, 'admin.pem.pub')
  writeFileSync(adminPublic, admin.publicKey.export({ type: 'spki', format: 'pem' }))
  const args = ['--store', store, '--admin-key', adminPublic, '--master-key-file', masterKeyFile]
  const server = await startServeProcess([...args, '--rate-limit', '1000000000'], {
    ...process.env,
    XDG_DATA_HOME: join(folder, 'data'),
    CONFIDE_SIM_KEY: simKeyFile,
    CONFIDE_ADMIN_KEY: '',
    CONFIDE_MASTER_KEY: '',
  })

  return { server, token: await mintAdminToken(admin.privateKey, { subject: 'bench' }) }
}

/** Runs every level against one engine and returns its results. */
async function benchEngine(
  engine: string,
  store: (folder: string) => Promise<string>,
  simKey: SimKey,
  simKeyFile: string,
  settings: Settings,
): Promise<LevelResult[]> {
  const folder = mkdtempSync(join(tmpdir(), `confide-bench-kbs-${engine}-`))
  let server: ServeProcess | undefined
  try {
    const started = await startServer(folder, await store(folder), simKeyFile)
    server = started.server
    const secret = randomBytes(32)
    await provision(server.url, started.token, secret)
    const attester = createSimAttester(simKey)
    const pid = server.child.pid ?? 0
    await runLevel(server.url, attester, secret, pid, 8, WARMUP_EXCHANGES)
    const results: LevelResult[] = []
    for (const level of settings.levels)
      results.push(await runLevel(server.url, attester, secret, pid, level, settings.exchanges))

    return results
  } finally {
    await server?.stop('SIGTERM')
    rmSync(folder, { recursive: true, force: true })
  }
}

function printLevels(rows: ReadonlyArray<{ engine: string; result: LevelResult }>): void {
  printTable(
    [
      'engine',
      'in flight',
      'exchanges',
      'exchanges/s',
      'p50 ms',
      'p99 ms',
      'client CPU ms',
      'server CPU ms',
    ],
    rows.map(({ engine, result }) => [
      engine,
      String(result.inFlight),
      String(result.exchanges),
      (result.exchanges / result.seconds).toFixed(0),
      percentile(result.latencies, 0.5).toFixed(1),
      percentile(result.latencies, 0.99).toFixed(1),
      (result.clientCpuMs / result.exchanges).toFixed(2),
      (result.serverCpuMs / result.exchanges).toFixed(2),
    ]),
  )
  console.log('client and server CPU: CPU time per exchange of this process and of the server')
}

async function main(): Promise<void> {
  const settings = readSettings()
  const folder = mkdtempSync(join(tmpdir(), 'confide-bench-kbs-'))
  const simKeyFile = join(folder, 'sim-key.pem')
  const simKey = await loadSimKey({ path: simKeyFile })
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  console.log('Full KBS exchanges (auth, attest, resource) against confide serve over loopback')
  console.log(
    `node ${process.version}, ${cpu}, ${cpus().length} logical CPUs, ${availableParallelism()} usable`,
  )
  console.log(`${settings.exchanges} exchanges per level after ${WARMUP_EXCHANGES} of warm-up\n`)
  const rows: Array<{ engine: string; result: LevelResult }> = []
  try {
    if (settings.engines.includes('sqlite')) {
      const results = await benchEngine(
        'sqlite',
        async (dir) => join(dir, 'store.db'),
        simKey,
        simKeyFile,
        settings,
      )
      rows.push(...results.map((result) => ({ engine: 'SQLite', result })))
    }
    const bin = findPostgresBin()
    if (settings.engines.includes('postgres') && bin === undefined)
      console.log('PostgreSQL skipped: no binaries under /usr/lib/postgresql/*/bin')
    if (settings.engines.includes('postgres') && bin !== undefined) {
      const cluster = new ThrowawayCluster(bin)
      await cluster.start()
      try {
        const results = await benchEngine(
          'postgres',
          () => cluster.newDatabase(),
          simKey,
          simKeyFile,
          settings,
        )
        rows.push(...results.map((result) => ({ engine: 'PostgreSQL', result })))
      } finally {
        cluster.stop()
      }
    }
    printLevels(rows)
    console.log('')
    await measureSteps(simKey, join(folder, 'steps.db'))
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}

await main()
