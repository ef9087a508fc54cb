// The signed-in borrower's own profile: load it, save a change, withdraw a pending change, add a bank card.
//
// A credit-relevant change waits for staff review. Saving again while one waits merges with it: the
// fields not sent stay pending, and a field sent back to its current value leaves the review.
import { defineStore } from 'pinia'
import { api, call, type components } from '@/api/client'
import { CREDIT_FIELDS, profileValues, type ProfileValues } from '@/parties/fields'

type BorrowerDetail = components['schemas']['BorrowerDetail']
type ProfileFields = components['schemas']['ProfileFields']
type BankCardCreate = components['schemas']['BankCardCreate']

/** Outcomes the borrower is told about (a "superseded" change lives on in the newer one). */
const SETTLED = new Set(['approved', 'rejected', 'withdrawn'])

export const useMyProfile = defineStore('myProfile', {
  state: () => ({ profile: null as BorrowerDetail | null, loading: false }),
  getters: {
    /** A credit-relevant change waiting for staff review, if any. */
    pending: (s) => (s.profile?.pending_change?.status === 'pending' ? s.profile.pending_change : null),
    /** The latest settled change (approved, rejected or withdrawn), to tell the borrower the outcome. */
    lastDecision: (s) => s.profile?.recent_changes.find((c) => SETTLED.has(c.status)) ?? null,
    /** The borrower's settled changes, newest first (one merged into a later change is not listed). */
    history: (s) => s.profile?.recent_changes.filter((c) => SETTLED.has(c.status)) ?? [],
    /**
     * The values the borrower has asked for: the profile, with the pending change's new values over
     * it. The financial form starts from these, and sends what differs from them.
     */
    requested(): ProfileValues {
      const values = profileValues(this.profile ?? {})
      for (const [field, change] of Object.entries(this.pending?.changes ?? {})) {
        if ((CREDIT_FIELDS as readonly string[]).includes(field)) values[field as keyof ProfileValues] = change.new ?? ''
      }
      return values
    },
  },
  actions: {
    async load() {
      this.loading = true
      try {
        this.profile = await call(api.GET('/api/v1/me/profile'))
      } finally {
        this.loading = false
      }
      return this.profile
    },
    async save(values: ProfileFields) {
      this.profile = await call(api.PATCH('/api/v1/me/profile', { body: values }))
      return this.profile
    },
    /** Take back the pending change: it is no longer reviewed and the profile keeps its values. */
    async withdraw(changeId: number) {
      const change = await call(api.POST('/api/v1/me/profile-changes/{change_id}/withdraw', { params: { path: { change_id: changeId } } }))
      await this.load()
      return change
    },
    async addCard(card: BankCardCreate) {
      const created = await call(api.POST('/api/v1/me/bank-cards', { body: card }))
      await this.load()
      return created
    },
  },
})
