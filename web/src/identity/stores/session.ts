// Who is signed in: the session token, the caller (`/auth/me`) and the public configuration.
//
// A borrower's token is kept in localStorage (their sessions last days); a staff member's in
// sessionStorage, so closing the browser tab ends it on this machine.
import { defineStore } from 'pinia'
import { api, call, type components } from '@/api/client'

type LoginRead = components['schemas']['LoginRead']
type MeRead = components['schemas']['MeRead']
type PublicConfig = components['schemas']['PublicConfig']
export type AccountKind = 'borrower' | 'staff'

const KEY = 'mc.session'
let configPending: Promise<PublicConfig> | null = null

interface Stored {
  token: string
  kind: AccountKind
}

function readStored(): Stored | null {
  for (const store of [sessionStorage, localStorage]) {
    const raw = store.getItem(KEY)
    if (!raw) continue
    try {
      const parsed = JSON.parse(raw) as Stored
      if (parsed.token && (parsed.kind === 'borrower' || parsed.kind === 'staff')) return parsed
    } catch {
      store.removeItem(KEY)
    }
  }
  return null
}

export const useSession = defineStore('session', {
  state: () => {
    const stored = readStored()
    return {
      token: stored?.token ?? (null as string | null),
      kind: stored?.kind ?? (null as AccountKind | null),
      me: null as MeRead | null,
      config: null as PublicConfig | null,
    }
  },
  getters: {
    signedIn: (s) => s.token !== null,
    isStaff: (s) => s.kind === 'staff',
    isBorrower: (s) => s.kind === 'borrower',
    /** The token only allows enrolling a second factor. */
    needsEnrolment: (s) => s.me?.stage === 'mfa_enrolment',
    permissions: (s) => new Set(s.me?.permissions ?? []),
  },
  actions: {
    /** Whether the caller holds `permission` (`a|b`: any of them). */
    can(permission: string | undefined): boolean {
      return !permission || permission.split('|').some((p) => this.permissions.has(p))
    },
    async loadConfig(): Promise<PublicConfig> {
      // The shell and the page ask at once on a first visit: one request for both.
      if (!this.config) {
        configPending ??= call(api.GET('/api/v1/public/config')).finally(() => (configPending = null))
        this.config = await configPending
      }
      return this.config
    },
    /** Keep a token from a sign-in answer and load the caller. */
    async adopt(token: string, kind: AccountKind): Promise<MeRead> {
      this.token = token
      this.kind = kind
      const store = kind === 'staff' ? sessionStorage : localStorage
      ;(kind === 'staff' ? localStorage : sessionStorage).removeItem(KEY)
      store.setItem(KEY, JSON.stringify({ token, kind } satisfies Stored))
      return this.fetchMe()
    },
    /** Follow a sign-in answer: adopt a session token if there is one; return the status either way. */
    async accept(login: LoginRead, kind: AccountKind): Promise<LoginRead['status']> {
      if (login.token && login.status !== 'mfa_required') await this.adopt(login.token, kind)
      return login.status
    },
    async fetchMe(): Promise<MeRead> {
      this.me = await call(api.GET('/api/v1/auth/me'))
      return this.me
    },
    async loginWithPassword(phone: string, password: string, kind: AccountKind) {
      const login = await call(api.POST('/api/v1/auth/login', { body: { phone, password, kind } }))
      return { login, status: await this.accept(login, kind) }
    },
    async loginWithSms(phone: string, code: string, kind: AccountKind) {
      const login = await call(api.POST('/api/v1/auth/login/sms', { body: { phone, code, kind } }))
      return { login, status: await this.accept(login, kind) }
    },
    async completeTotp(mfaToken: string, code: string) {
      const login = await call(api.POST('/api/v1/auth/login/totp', { body: { mfa_token: mfaToken, code } }))
      return this.accept(login, 'staff')
    },
    async logout(): Promise<void> {
      try {
        if (this.token) await call(api.POST('/api/v1/auth/logout'))
      } catch {
        // the session may already be gone; signing out locally is what matters
      } finally {
        this.clear()
      }
    },
    clear(): void {
      this.token = null
      this.kind = null
      this.me = null
      localStorage.removeItem(KEY)
      sessionStorage.removeItem(KEY)
    },
  },
})
