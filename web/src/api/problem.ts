// Errors from the API (RFC 9457 problem documents) and from the network, as values the screens switch on.
import type { components } from './schema'

export type Problem = components['schemas']['Problem']

/** The API refused the request: `problem.code` is stable, `problem.detail` is in the current language. */
export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem

  constructor(status: number, problem: Problem) {
    super(problem.detail)
    this.name = 'ApiError'
    this.status = status
    this.problem = problem
  }

  get code(): string {
    return this.problem.code
  }

  /** The message of each named field (first message wins); the form shows it next to the field. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const e of this.problem.errors ?? []) {
      if (e.field && !(e.field in out)) out[e.field] = e.message
    }
    if (this.problem.field && !(this.problem.field in out)) out[this.problem.field] = this.problem.detail
    return out
  }
}

/** The request did not get an answer the app can use: no network, or a server failure (5xx). Retryable. */
export class TransientError extends Error {
  readonly status: number | null

  constructor(status: number | null, message: string) {
    super(message)
    this.name = 'TransientError'
    this.status = status
  }
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'code' in value && 'detail' in value
}

/** Turn an openapi-fetch answer's error side into a thrown ApiError or TransientError. */
export function toError(status: number, body: unknown): ApiError | TransientError {
  if (status >= 500 || status === 0) return new TransientError(status || null, `HTTP ${status}`)
  if (isProblem(body)) return new ApiError(status, body)
  return new ApiError(status, {
    type: 'about:blank',
    title: `HTTP ${status}`,
    status,
    code: status === 404 ? 'not_found' : 'http_error',
    detail: typeof body === 'string' && body ? body : `HTTP ${status}`,
    errors: [],
  })
}
