/** The key broker on PostgreSQL: the cases shared with SQLite, on a throwaway cluster. */
import { after, before, describe } from 'node:test'
import { openStore } from '../../src/store/open.js'
import { findPostgresBin, ThrowawayCluster } from '../helpers/postgres.js'
import { describeKbsBroker } from './broker-cases.js'

const bin = findPostgresBin()
const skip =
  bin === undefined ? 'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin' : false

describe('KbsBroker on PostgreSQL', { skip }, () => {
  const cluster = bin === undefined ? undefined : new ThrowawayCluster(bin)
  before(() => cluster?.start())
  after(() => cluster?.stop())

  describeKbsBroker('KbsBroker cases', {
    newStore: async () => {
      if (cluster === undefined) throw new Error('no cluster')
      return openStore(await cluster.newDatabase())
    },
  })
})
