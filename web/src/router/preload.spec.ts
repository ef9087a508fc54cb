import { describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { preloadRoute } from './index'

describe('preloadRoute', () => {
  function router(prefetch: (to: { params: Record<string, unknown> }) => void) {
    return createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/products/:code', name: 'product', component: () => Promise.resolve({ template: '<div />' }), meta: { prefetch } },
        { path: '/products/:code/apply', name: 'apply', component: () => Promise.resolve({ template: '<div />' }), meta: { auth: 'borrower', prefetch } },
      ],
    })
  }

  it('starts the page’s first request with its code, with the address’s parameters', () => {
    const prefetch = vi.fn()
    preloadRoute(router(prefetch), '/products/CONSUMER', false)
    expect(prefetch).toHaveBeenCalledTimes(1)
    expect(prefetch.mock.calls[0][0].params).toEqual({ code: 'CONSUMER' })
  })

  it('asks nothing for a signed-in page when nobody is signed in (the sign-in page opens instead)', () => {
    const prefetch = vi.fn()
    preloadRoute(router(prefetch), '/products/CONSUMER/apply', false)
    expect(prefetch).not.toHaveBeenCalled()
    preloadRoute(router(prefetch), '/products/CONSUMER/apply', true)
    expect(prefetch).toHaveBeenCalledTimes(1)
  })
})
