/** The key broker on SQLite in memory: the cases shared with PostgreSQL. */

import { openStore } from '../../src/store/open.js'
import { describeKbsBroker } from './broker-cases.js'

describeKbsBroker('KbsBroker on SQLite', { newStore: () => openStore(':memory:') })
