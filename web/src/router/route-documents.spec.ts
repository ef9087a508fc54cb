// The build's per-route documents (scripts/route-documents.ts) must pick, for an address, the route
// the app's own router opens there: the patterns are read from the route map's source, so this
// compares them with vue-router's matching of the real routes.
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAppRouter } from './index'
import { documentFor, documentRoutes, routePattern, withPreloads } from '../../scripts/route-documents'

const routes = documentRoutes(resolve(__dirname, '../..'))

describe('route documents', () => {
  it('covers every borrower page and the staff sign-in, not the 404 catch-all', () => {
    const names = routes.map((r) => r.name)
    expect(names).toEqual(expect.arrayContaining(['home', 'login', 'register', 'calculator', 'product', 'apply',
      'my-application', 'my-contract', 'my-loan', 'me', 'my-documents', 'forbidden', 'staff-login']))
    expect(names).not.toContain('not-found')
    expect(names.some((n) => n.startsWith('staff-') && n !== 'staff-login')).toBe(false)
    // The borrower pages open inside the borrower shell: its chunks are preloaded with the page's.
    expect(routes.find((r) => r.name === 'login')!.components.map((c) => c.split('/src/')[1]))
      .toEqual(['shells/BorrowerShell.vue', 'identity/views/LoginView.vue'])
  })

  it("picks for an address the route the app's router opens there", () => {
    const router = createAppRouter()
    const documented = new Set(routes.map((r) => r.name))
    const paths = ['/', '/login', '/Login/', '/register', '/calculator', '/reset-password', '/sms-inbox', '/oauth/complete',
      '/products', '/products/CONSUMER', '/products/consumer', '/products/CONSUMER/apply', '/applications',
      '/applications/7', '/applications/7/contract', '/applications/x', '/loans', '/loans/12', '/loans/12/more',
      '/group', '/notifications', '/me', '/me/documents', '/forbidden', '/no-such-page', '/staff/login',
      '/staff', '/staff/borrowers/3', '/staff/calculator', '/staff/no-such-page']
    for (const path of paths) {
      const opened = String(router.resolve(path).name)
      const expected = documented.has(opened) ? opened : undefined
      expect(documentFor(routes, path)?.name, path).toBe(expected)
    }
  })

  it("turns vue-router's path syntax into a pattern", () => {
    expect(routePattern('/')).toBe('^/?$')
    expect(routePattern('/applications/:id(\\d+)/contract')).toBe('^/applications/(?:\\d+)/contract/?$')
    expect(routePattern('/a/:name')).toBe('^/a/(?:[^/]+?)/?$')
    expect(routePattern('/a.b')).toBe('^/a\\.b/?$')
    // Repeated or optional parameters (the catch-all): no document.
    expect(routePattern('/:pathMatch(.*)*')).toBeNull()
    expect(routePattern('/a/:b?')).toBeNull()
  })

  it('adds the preloads before the end of the head', () => {
    const html = withPreloads('<head><title>t</title></head><body></body>', ['assets/a-1.js'], ['assets/a-2.css'])
    expect(html).toBe('<head><title>t</title><link rel="modulepreload" crossorigin href="/assets/a-1.js">\n    '
      + '<link rel="preload" as="style" crossorigin href="/assets/a-2.css">\n  </head><body></body>')
  })
})
