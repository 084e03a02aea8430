/**
 * The store and its collateral cache on PostgreSQL: the cases shared with SQLite, run against a
 * throwaway cluster that this file creates with Debian's initdb and pg_ctl in a temporary folder,
 * listening on 127.0.0.1 only, and stops at the end.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import { openStore } from '../../src/store/open.js'
import { describeCollateralCache } from './cache-cases.js'

/** Returns the newest `/usr/lib/postgresql/<major>/bin` that has pg_ctl, or undefined. */
function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const majors = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
  const bins = majors.map((major) => join(root, major, 'bin'))
  return bins.find((bin) => existsSync(join(bin, 'pg_ctl')) && existsSync(join(bin, 'initdb')))
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

/** A PostgreSQL cluster in a temporary folder, owned by the `postgres` user when run as root. */
class ThrowawayCluster {
  readonly #bin: string
  readonly #folder = mkdtempSync(join(tmpdir(), 'confide-postgres-'))
  readonly #data = join(this.#folder, 'data')
  #port = 0
  #databases = 0

  constructor(bin: string) {
    this.#bin = bin
  }

  /** Runs a PostgreSQL program, as the `postgres` user when this process is root. */
  #run(program: string, args: string[]): void {
    const command = join(this.#bin, program)
    const asRoot = process.getuid?.() === 0
    execFileSync(
      asRoot ? 'runuser' : command,
      asRoot ? ['-u', 'postgres', '--', command, ...args] : args,
      {
        stdio: 'ignore',
      },
    )
  }

  async start(): Promise<void> {
    if (process.getuid?.() === 0) {
      const owner = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
      const group = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
      chownSync(this.#folder, Number(owner), Number(group))
    }
    // The ICU default collation sorts 'a' before 'B', unlike code point order, so the key order
    // case fails unless the key column's own "C" collation applies.
    const options = ['-U', 'confide', '-A', 'trust', '-E', 'UTF8', '--no-sync']
    const collation = ['--locale-provider=icu', '--icu-locale=und']
    this.#run('initdb', ['-D', this.#data, ...options, ...collation])
    this.#port = await freePort()
    appendFileSync(
      join(this.#data, 'postgresql.conf'),
      [
        "listen_addresses = '127.0.0.1'",
        `port = ${this.#port}`,
        `unix_socket_directories = '${this.#folder}'`,
        'fsync = off',
        '',
      ].join('\n'),
    )
    const log = join(this.#folder, 'server.log')
    try {
      this.#run('pg_ctl', ['-D', this.#data, '-l', log, '-w', 'start'])
    } catch (error) {
      const output = existsSync(log) ? readFileSync(log, 'utf8') : 'no server log'
      throw new Error(`pg_ctl start failed. Server log:\n${output}`, { cause: error })
    }
  }

  /** Creates an empty database and returns its URL. */
  async newDatabase(): Promise<string> {
    this.#databases += 1
    const name = `cache_${this.#databases}`
    const admin = await openStore(this.url('postgres'))
    try {
      await sql`create database ${sql.id(name)}`.execute(admin.db)
    } finally {
      await admin.close()
    }

    return this.url(name)
  }

  url(database: string): string {
    return `postgres://confide@127.0.0.1:${this.#port}/${database}`
  }

  stop(): void {
    try {
      this.#run('pg_ctl', ['-D', this.#data, '-m', 'fast', '-w', 'stop'])
    } finally {
      rmSync(this.#folder, { recursive: true, force: true })
    }
  }
}

const bin = findPostgresBin()
const skip =
  bin === undefined ? 'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin' : false

describe('PostgreSQL store', { skip }, () => {
  const cluster = bin === undefined ? undefined : new ThrowawayCluster(bin)
  before(() => cluster?.start())
  after(() => cluster?.stop())

  describeCollateralCache('CollateralCache on PostgreSQL', {
    newLocation: async () => {
      if (cluster === undefined) throw new Error('no cluster')
      return cluster.newDatabase()
    },
  })

  describe('openStore', () => {
    it('opens a postgresql:// URL with bytea columns', async () => {
      const location = (await cluster?.newDatabase())?.replace(/^postgres:/, 'postgresql:')
      assert.ok(location !== undefined)
      const store = await openStore(location)
      try {
        assert.equal(store.dialect, 'postgres')
        const { rows } = await sql<{ type: string }>`
          select data_type as type from information_schema.columns
          where table_name = 'collateral' and column_name = 'body'`.execute(store.db)
        assert.equal(rows[0]?.type, 'bytea')
      } finally {
        await store.close()
      }
    })
  })
})

describe('openStore with a PostgreSQL URL', () => {
  it('rejects a server it cannot reach', async () => {
    const port = await freePort()
    await assert.rejects(
      openStore(`postgres://confide:secret@127.0.0.1:${port}/confide`),
      (error) => {
        assert.equal((error as { code?: unknown }).code, 'ERR_CONFIG_INVALID')
        assert.doesNotMatch((error as Error).message, /secret/)
        return true
      },
    )
  })
})
