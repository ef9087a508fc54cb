import { describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter, START_LOCATION } from 'vue-router'
import { scrollPosition } from './index'

const Empty = { template: '<div />' }

function router() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'home', component: Empty },
      { path: '/login', name: 'login', component: Empty },
    ],
  })
}

describe('scrollPosition', () => {
  async function at(path: string) {
    const r = router()
    await r.push(path)
    return r.currentRoute.value
  }

  it('leaves the scroll alone on the first navigation of a fresh load (no forced layout before the first paint)', async () => {
    expect(scrollPosition(await at('/login'), START_LOCATION, null)).toBe(false)
  })

  it('goes to the top of a new page, and back to where the reader was on back/forward or a reload', async () => {
    const home = await at('/')
    const login = await at('/login')
    expect(scrollPosition(login, home, null)).toEqual({ top: 0 })
    expect(scrollPosition(home, login, { left: 0, top: 420 })).toEqual({ left: 0, top: 420 })
    expect(scrollPosition(login, START_LOCATION, { left: 0, top: 300 })).toEqual({ left: 0, top: 300 })
  })
})
