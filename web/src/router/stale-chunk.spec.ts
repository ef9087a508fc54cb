import { describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { reloadOnStaleChunk } from './index'

function routerWith(load: () => Promise<unknown>) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<p>home</p>' } },
      { path: '/calculator', component: load as never },
    ],
  })
  const store = new Map<string, string>()
  const opened: string[] = []
  reloadOnStaleChunk(router, { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
    (url) => opened.push(url))
  return { router, opened }
}

describe('a page whose code is gone after a release', () => {
  it('opens the address again once, so the new release loads', async () => {
    const gone = () => Promise.reject(new TypeError('Failed to fetch dynamically imported module: /assets/Calc-1.js'))
    const { router, opened } = routerWith(gone)
    await router.push('/').catch(() => undefined)
    await router.push('/calculator?amount=1000').catch(() => undefined)
    expect(opened).toEqual(['/calculator?amount=1000'])
    // Still failing after that reload: a real error, not a loop of reloads.
    await router.push('/').catch(() => undefined)
    await router.push('/calculator?amount=1000').catch(() => undefined)
    expect(opened).toEqual(['/calculator?amount=1000'])
  })

  it('leaves any other error alone', async () => {
    const { router, opened } = routerWith(() => Promise.reject(new Error('the page threw while loading')))
    await router.push('/calculator').catch(() => undefined)
    expect(opened).toEqual([])
  })
})
