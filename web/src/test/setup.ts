// Vitest set-up: a replaceable fetch (the API client binds fetch when created) and clean storage.
import { afterEach, beforeEach } from 'vitest'
import { resetFetch } from './fetch'

beforeEach(() => {
  // Pure tests run in the node environment, without storage.
  if (typeof localStorage === 'undefined') return
  localStorage.clear()
  sessionStorage.clear()
})
afterEach(() => resetFetch())
