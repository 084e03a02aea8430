/**
 * The confide service: `buildServer` for a Fastify application to embed or test with `inject`,
 * and `startServer` for the process `confide serve` runs. Node only.
 *
 * @module
 */
export { ADMIN_AUDIENCE, type AdminKey, MAX_ADMIN_TOKEN_LIFETIME_SECONDS } from './admin-auth.js'
export {
  type AdminTokenOptions,
  DEFAULT_ADMIN_TOKEN_TTL_SECONDS,
  mintAdminToken,
} from './admin-token.js'
export { buildServer, type ServerOptions } from './app.js'
export { DEFAULT_BODY_LIMIT, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_RATE_LIMIT } from './defaults.js'
export { createServerMetrics, type ServerMetrics } from './metrics.js'
export { type RunningServer, type ServeConfig, startServer } from './start.js'
