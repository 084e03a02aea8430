/**
 * A throwaway PostgreSQL cluster for tests: created with Debian's initdb and pg_ctl in a
 * temporary folder, listening on 127.0.0.1 only, removed by `stop`. Tests of both store engines
 * use it; a suite skips itself when `findPostgresBin` finds no binaries.
 */
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
import { sql } from 'kysely'
import { openStore } from '../../src/store/open.js'

/** Returns the newest `/usr/lib/postgresql/<major>/bin` that has pg_ctl, or undefined. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const majors = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
  const bins = majors.map((major) => join(root, major, 'bin'))
  return bins.find((bin) => existsSync(join(bin, 'pg_ctl')) && existsSync(join(bin, 'initdb')))
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

/** A PostgreSQL cluster in a temporary folder, owned by the `postgres` user when run as root. */
export class ThrowawayCluster {
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
