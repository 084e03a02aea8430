/**
 * Resource paths: `<repository>/<type>/<tag>`, as in Trustee's `/kbs/v0/resource/...` route.
 *
 * @module
 */
import { KbsError } from './errors.js'

/** Location of a resource: the three segments of its path. */
export interface ResourcePath {
  readonly repository: string
  readonly type: string
  readonly tag: string
}

/** The path segment syntax: letters, digits, `.`, `_` and `-`, 1 to 128 characters. */
const SEGMENT = /^[A-Za-z0-9._-]{1,128}$/

function checkSegment(name: string, value: string): void {
  if (!SEGMENT.test(value) || value === '.' || value === '..')
    throw new KbsError(
      'ERR_KBS_NOT_FOUND',
      `resource ${name} ${JSON.stringify(value.slice(0, 140))} is invalid: use 1 to 128 letters, digits, '.', '_' or '-', other than . and ..`,
    )
}

/**
 * Validates each segment of a resource path and returns a copy of the path.
 *
 * @throws KbsError `ERR_KBS_NOT_FOUND` (problem type `InvalidRequestPath`) for a segment that is
 *   empty, `.` or `..`, longer than 128 characters, or has another character.
 */
export function validateResourcePath(path: ResourcePath): ResourcePath {
  checkSegment('repository', path.repository)
  checkSegment('type', path.type)
  checkSegment('tag', path.tag)

  return { repository: path.repository, type: path.type, tag: path.tag }
}

/**
 * Parses `repository/type/tag` text into a path.
 *
 * @throws KbsError `ERR_KBS_NOT_FOUND` unless the text has three valid segments.
 */
export function parseResourcePath(text: string): ResourcePath {
  const parts = text.split('/')
  if (parts.length !== 3)
    throw new KbsError(
      'ERR_KBS_NOT_FOUND',
      'resource path must have the form <repository>/<type>/<tag>',
    )
  const [repository, type, tag] = parts as [string, string, string]

  return validateResourcePath({ repository, type, tag })
}

/** Formats a path as `repository/type/tag`, the key the store uses for the resource. */
export function formatResourcePath(path: ResourcePath): string {
  return `${path.repository}/${path.type}/${path.tag}`
}
