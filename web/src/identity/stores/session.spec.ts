import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useSession } from './session'
import { configureClient } from '@/api/client'
import { fakeApi, requests } from '@/test/fetch'
import { me } from '@/test/fixtures'

describe('the session store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    const session = useSession()
    configureClient({ token: () => session.token, language: () => 'zh-CN' })
  })

  it('signs a staff member in, keeps the token for the tab only, and loads who they are', async () => {
    fakeApi({
      'POST /api/v1/auth/login': { body: { status: 'authenticated', token: 'staff-token' } },
      'GET /api/v1/auth/me': { body: me() },
    })
    const session = useSession()
    const { status } = await session.loginWithPassword('13900000002', 'Demo-Pass-2026', 'staff')
    expect(status).toBe('authenticated')
    expect(session.isStaff).toBe(true)
    expect(session.can('borrower.read')).toBe(true)
    expect(session.can('audit.read')).toBe(false)
    expect(JSON.parse(sessionStorage.getItem('mc.session')!)).toEqual({ token: 'staff-token', kind: 'staff' })
    expect(localStorage.getItem('mc.session')).toBeNull()
    expect(requests.at(-1)!.headers.get('Authorization')).toBe('Bearer staff-token')
  })

  it('keeps a borrower’s token across browser restarts', async () => {
    fakeApi({
      'POST /api/v1/auth/login/sms': { body: { status: 'authenticated', token: 'b-token' } },
      'GET /api/v1/auth/me': { body: me({ kind: 'borrower', roles: ['borrower'], permissions: ['profile.read_own'] }) },
    })
    const session = useSession()
    await session.loginWithSms('13900001002', '123456', 'borrower')
    expect(session.isBorrower).toBe(true)
    expect(JSON.parse(localStorage.getItem('mc.session')!).kind).toBe('borrower')
  })

  it('does not sign in before the second factor, and then does', async () => {
    fakeApi({
      'POST /api/v1/auth/login': { body: { status: 'mfa_required', mfa_token: 'mfa-token-123' } },
      'POST /api/v1/auth/login/totp': { body: { status: 'authenticated', token: 'full' } },
      'GET /api/v1/auth/me': { body: me({ roles: ['administrator'] }) },
    })
    const session = useSession()
    const { status, login } = await session.loginWithPassword('13900000001', 'Demo-Pass-2026', 'staff')
    expect(status).toBe('mfa_required')
    expect(session.signedIn).toBe(false)
    expect(await session.completeTotp(login.mfa_token!, '123456')).toBe('authenticated')
    expect(session.token).toBe('full')
  })

  it('knows a token that only allows enrolling a second factor', async () => {
    fakeApi({
      'POST /api/v1/auth/login': { body: { status: 'mfa_enrolment_required', token: 'enrol-only' } },
      'GET /api/v1/auth/me': { body: me({ stage: 'mfa_enrolment', permissions: [] }) },
    })
    const session = useSession()
    await session.loginWithPassword('13900000001', 'x', 'staff')
    expect(session.needsEnrolment).toBe(true)
  })

  it('signs out locally even when the server already ended the session', async () => {
    fakeApi({
      'POST /api/v1/auth/login': { body: { status: 'authenticated', token: 't' } },
      'GET /api/v1/auth/me': { body: me() },
      'POST /api/v1/auth/logout': { status: 401, body: { code: 'session_expired', detail: 'x' } },
    })
    const session = useSession()
    await session.loginWithPassword('13900000002', 'x', 'staff')
    await session.logout()
    expect(session.signedIn).toBe(false)
    expect(session.me).toBeNull()
    expect(sessionStorage.getItem('mc.session')).toBeNull()
  })
})
