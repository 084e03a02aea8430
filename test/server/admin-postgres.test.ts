/** The admin API on PostgreSQL, in a throwaway cluster on 127.0.0.1. */
import { after, before, describe } from 'node:test'
import { findPostgresBin, ThrowawayCluster } from '../helpers/postgres.js'
import { describeAdminApi } from './admin-cases.js'

const bin = findPostgresBin()
const skip =
  bin === undefined ? 'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin' : false

describe('admin API on PostgreSQL', { skip }, () => {
  const cluster = bin === undefined ? undefined : new ThrowawayCluster(bin)
  before(() => cluster?.start())
  after(() => cluster?.stop())

  describeAdminApi('admin API', async () => {
    if (cluster === undefined) throw new Error('no cluster')
    return cluster.newDatabase()
  })
})
