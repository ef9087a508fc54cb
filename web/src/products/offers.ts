// A product on offer (public), asked as early as the page's code: the router's preloadRoute starts
// the request when the entry runs (route meta `prefetch`), and the product's page and the application
// form take that answer when they mount, instead of asking only then — a round trip and the app's
// mount later on a slow phone network (issue 20). A request is used once; the next visit asks again.
import { api, call } from '@/api/client'
import type { ProductOfferRead } from '@/products/catalogue'

const started = new Map<string, Promise<ProductOfferRead>>()

/** Start asking for the product `code` (no-op when already asked and not yet taken). */
export function prefetchOffer(code: string): void {
  if (started.has(code)) return
  const answer = call(api.GET('/api/v1/product-offers/{product_code}', { params: { path: { product_code: code } } }))
  // A failure is the page's to show when it takes the answer; unhandled until then is not an error.
  answer.catch(() => undefined)
  started.set(code, answer)
}

/** The product `code`: the answer already on its way, or a new request. */
export function offerOf(code: string): Promise<ProductOfferRead> {
  prefetchOffer(code)
  const answer = started.get(code) as Promise<ProductOfferRead>
  started.delete(code)
  return answer
}
