// A fake API for unit tests: routes "METHOD /path" to JSON answers and records the requests.
type Answer = { status?: number; body?: unknown; headers?: Record<string, string> }
type Handler = (request: Request) => Answer | Promise<Answer>

export const requests: Request[] = []
let routes: Record<string, Handler | Answer> = {}
let failure: Error | null = null

/** Answer `routes` ("GET /api/v1/auth/me" → answer or handler); anything else is a 404 problem. */
export function fakeApi(next: Record<string, Handler | Answer>): void {
  routes = next
  failure = null
}

/** Make every request fail as if the network were down. */
export function networkDown(): void {
  failure = new TypeError('Failed to fetch')
}

export function resetFetch(): void {
  routes = {}
  failure = null
  requests.length = 0
}

async function fakeFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = input instanceof Request ? input : new Request(String(input), init)
  requests.push(request.clone())
  if (failure) throw failure
  const url = new URL(request.url)
  const route = routes[`${request.method} ${url.pathname}`]
  const answer = typeof route === 'function' ? await route(request) : route
  if (!answer) {
    return new Response(JSON.stringify({ type: 'about:blank', title: 'Not found', status: 404, code: 'not_found', detail: 'not found', errors: [] }), {
      status: 404,
      headers: { 'Content-Type': 'application/problem+json' },
    })
  }
  const status = answer.status ?? 200
  const problem = status >= 400 && typeof answer.body === 'object'
  return new Response(answer.body === undefined ? null : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body), {
    status,
    headers: { 'Content-Type': problem ? 'application/problem+json' : 'application/json', ...answer.headers },
  })
}

globalThis.fetch = fakeFetch as typeof fetch
