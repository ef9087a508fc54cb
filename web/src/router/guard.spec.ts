import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { guard } from './index'
import { useSession } from '@/identity/stores/session'
import { me } from '@/test/fixtures'

const Empty = { template: '<div />' }

function router() {
  const r = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'home', component: Empty },
      { path: '/login', name: 'login', component: Empty, meta: { guest: true } },
      { path: '/me', name: 'me', component: Empty, meta: { auth: 'borrower' } },
      { path: '/calculator', name: 'calculator', component: Empty },
      { path: '/forbidden', name: 'forbidden', component: Empty },
      { path: '/staff/login', name: 'staff-login', component: Empty, meta: { guest: true } },
      { path: '/staff/enrol', name: 'staff-enrol', component: Empty },
      {
        path: '/staff',
        component: Empty,
        meta: { auth: 'staff' },
        children: [
          { path: '', name: 'staff-home', component: Empty },
          { path: 'audit-log', name: 'staff-audit-log', component: Empty, meta: { permission: 'audit.read' } },
          { path: 'calculator', name: 'staff-calculator', component: Empty },
          { path: 'forbidden', name: 'staff-forbidden', component: Empty },
          { path: ':pathMatch(.*)*', name: 'staff-not-found', component: Empty },
        ],
      },
      { path: '/:pathMatch(.*)*', name: 'not-found', component: Empty },
    ],
  })
  r.beforeEach(guard)
  return r
}

function signIn(kind: 'staff' | 'borrower', permissions: string[], stage = 'full') {
  const session = useSession()
  session.token = 'tok'
  session.kind = kind
  session.me = me({ kind, permissions, stage })
}

describe('the route guard', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('sends a visitor to the right sign-in page, remembering where they were going', async () => {
    const r = router()
    await r.push('/staff/audit-log')
    expect(r.currentRoute.value.fullPath).toBe('/staff/login?redirect=/staff/audit-log')
    await r.push('/me')
    expect(r.currentRoute.value.fullPath).toBe('/login?redirect=/me')
  })

  it('shows the 403 page for a page outside the staff member’s permissions', async () => {
    signIn('staff', ['borrower.read'])
    const r = router()
    await r.push('/staff/audit-log')
    expect(r.currentRoute.value.name).toBe('staff-forbidden')
    expect(r.currentRoute.value.query.from).toBe('/staff/audit-log')
  })

  it('lets a staff member with the permission in', async () => {
    signIn('staff', ['audit.read'])
    const r = router()
    await r.push('/staff/audit-log')
    expect(r.currentRoute.value.name).toBe('staff-audit-log')
  })

  it('keeps staff out of the borrower app and borrowers out of the console', async () => {
    signIn('staff', [])
    const r = router()
    await r.push('/me')
    expect(r.currentRoute.value.name).toBe('staff-home')
    await r.push('/calculator')
    expect(r.currentRoute.value.name).toBe('staff-calculator')

    signIn('borrower', ['profile.read_own'])
    await r.push('/staff')
    expect(r.currentRoute.value.name).toBe('forbidden')
  })

  it('holds a staff member with an enrolment-only token on the enrolment page', async () => {
    signIn('staff', [], 'mfa_enrolment')
    const r = router()
    await r.push('/staff/audit-log')
    expect(r.currentRoute.value.name).toBe('staff-enrol')
  })

  it('shows an unknown address inside the frame of the app the caller uses', async () => {
    const r = router()
    await r.push('/no/such/page')
    expect(r.currentRoute.value.name).toBe('not-found')

    signIn('borrower', ['profile.read_own'])
    await r.push('/no-such-page')
    expect(r.currentRoute.value.name).toBe('not-found')

    signIn('staff', [])
    await r.push('/staff/no-such-page')
    expect(r.currentRoute.value.name).toBe('staff-not-found')
    await r.push('/no/such/page')
    expect(r.currentRoute.value.name).toBe('staff-not-found')
    expect(r.currentRoute.value.path).toBe('/staff/no/such/page')
  })

  it('takes a signed-in user past the sign-in page', async () => {
    signIn('borrower', ['profile.read_own'])
    const r = router()
    await r.push('/login')
    expect(r.currentRoute.value.name).toBe('me')
  })
})
