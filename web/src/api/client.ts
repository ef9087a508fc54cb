// The one HTTP client of the app: openapi-fetch over the generated `paths` (src/api/schema.d.ts).
//
// Every request carries the session token and the current language (the API answers errors in
// it); every failure becomes an ApiError (a problem document) or a TransientError (network, 5xx).
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { ApiError, TransientError, toError } from './problem'

export type { paths, components, operations } from './schema'

interface ClientHooks {
  token: () => string | null
  language: () => string
  /** Called when an authenticated request gets 401 (session expired or revoked). */
  onUnauthorized: (error: ApiError) => void
}

const hooks: ClientHooks = {
  token: () => null,
  language: () => 'zh-CN',
  onUnauthorized: () => {},
}

/** Wire the client to the session and i18n (done once in main.ts; tests may set their own). */
export function configureClient(next: Partial<ClientHooks>): void {
  Object.assign(hooks, next)
}

/** The headers every request carries (session token, language): for requests made outside openapi-fetch
 *  (an upload through XMLHttpRequest, to report its progress). */
export function requestHeaders(): Record<string, string> {
  const token = hooks.token()
  return { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Accept-Language': hooks.language() }
}

const SESSION_ENDS = new Set(['session_expired', 'not_authenticated'])

const middleware: Middleware = {
  onRequest({ request }) {
    const token = hooks.token()
    if (token && !request.headers.has('Authorization')) request.headers.set('Authorization', `Bearer ${token}`)
    request.headers.set('Accept-Language', hooks.language())
    return request
  },
  async onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('Authorization')) {
      const body = await response.clone().json().catch(() => null)
      const error = toError(401, body)
      if (error instanceof ApiError && SESSION_ENDS.has(error.code)) hooks.onUnauthorized(error)
    }
    return response
  },
}

// Same origin: the API process serves the app (an absolute base also works under Node for the unit tests).
export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' })
api.use(middleware)

interface Answer<T> {
  data?: T
  error?: unknown
  response: Response
}

/** Await an openapi-fetch call and return its data, or throw ApiError / TransientError. */
export async function call<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>
  try {
    answer = await request
  } catch (e) {
    throw new TransientError(null, e instanceof Error ? e.message : String(e))
  }
  if (answer.response.ok) return answer.data as T
  throw toError(answer.response.status, answer.error)
}

/** Save a binary answer (an .xlsx export) under the name the server gave it. */
export async function download(request: Promise<Answer<unknown>>, fallbackName: string): Promise<void> {
  let answer: Answer<unknown>
  try {
    answer = await request
  } catch (e) {
    throw new TransientError(null, e instanceof Error ? e.message : String(e))
  }
  if (!answer.response.ok) throw toError(answer.response.status, answer.error)
  const blob = answer.data as Blob
  const disposition = answer.response.headers.get('Content-Disposition') ?? ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallbackName
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
