/**
 * Logger settings of the server: pino through Fastify, one JSON line per event, every request's
 * lines carrying its request ID, and credentials and secrets replaced by `[Redacted]`.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyRequest, FastifyServerOptions } from 'fastify'

/** Pino's logger options as Fastify takes them. */
export type LoggerOptions = Exclude<NonNullable<FastifyServerOptions['logger']>, boolean>

/**
 * Paths pino replaces with `[Redacted]`: credential headers, cookies, and any field named like a
 * token, key, secret or resource body, at the top level of a log object or one level down.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'token',
  'key',
  'privateKey',
  'masterKey',
  'secret',
  'password',
  'body',
  'resource',
  '*.token',
  '*.key',
  '*.privateKey',
  '*.masterKey',
  '*.secret',
  '*.password',
  '*.body',
  '*.resource',
]

/** Request headers written to the log; credential headers are listed so that redaction shows them. */
const LOGGED_HEADERS = [
  'authorization',
  'cookie',
  'content-length',
  'content-type',
  'user-agent',
  'x-forwarded-for',
] as const

/** A serialized request, in the shape Fastify's logger types ask of the `req` serializer. */
interface SerializedRequest {
  method?: string
  url?: string
  remoteAddress?: string
  remotePort?: number
  [key: string]: unknown
}

/** Writes a request as method, URL, remote address and the listed headers. */
function serializeRequest(request: FastifyRequest): SerializedRequest {
  const headers: Record<string, unknown> = {}
  for (const name of LOGGED_HEADERS) {
    const value = request.headers[name]
    if (value !== undefined) headers[name] = value
  }
  const port = request.socket?.remotePort

  return {
    method: request.method,
    url: request.url,
    remoteAddress: request.ip,
    ...(port === undefined ? {} : { remotePort: port }),
    headers,
  }
}

/** Returns the logger options: the caller's, with the redaction and serializers above added. */
export function loggerOptions(given: boolean | LoggerOptions | undefined): false | LoggerOptions {
  if (given === false) return false
  const base = given === true || given === undefined ? {} : given
  const extraPaths = Array.isArray(base.redact) ? base.redact : (base.redact?.paths ?? [])

  return {
    level: 'info',
    ...base,
    redact: { paths: [...REDACTED_PATHS, ...extraPaths], censor: '[Redacted]' },
    serializers: { ...base.serializers, req: serializeRequest },
  }
}

/** A request ID sent by a client or proxy is kept when it is short and plain. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/**
 * Returns the ID of a request: the `x-request-id` header when it is 1 to 64 letters, digits or
 * `._:-`, else a random UUID.
 */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id']
  if (typeof given === 'string' && CLIENT_REQUEST_ID.test(given)) return given

  return randomUUID()
}
