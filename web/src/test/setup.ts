// Vitest set-up: a replaceable fetch (the API client binds fetch when created) and clean storage.
import { afterEach, beforeEach } from 'vitest'
import { resetFetch } from './fetch'

beforeEach(() => {
  localStorage.clear()
  sessionStorage.clear()
})
afterEach(() => resetFetch())
