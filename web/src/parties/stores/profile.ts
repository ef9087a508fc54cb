// The signed-in borrower's own profile: load it, save a change, add a bank card.
import { defineStore } from 'pinia'
import { api, call, type components } from '@/api/client'

type BorrowerDetail = components['schemas']['BorrowerDetail']
type ProfileFields = components['schemas']['ProfileFields']
type BankCardCreate = components['schemas']['BankCardCreate']

export const useMyProfile = defineStore('myProfile', {
  state: () => ({ profile: null as BorrowerDetail | null, loading: false }),
  getters: {
    /** A credit-relevant change waiting for staff review, if any. */
    pending: (s) => (s.profile?.pending_change?.status === 'pending' ? s.profile.pending_change : null),
    /** The latest decided change (approved or rejected), to tell the borrower the outcome. */
    lastDecision: (s) => s.profile?.recent_changes.find((c) => c.status === 'approved' || c.status === 'rejected') ?? null,
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
    async addCard(card: BankCardCreate) {
      const created = await call(api.POST('/api/v1/me/bank-cards', { body: card }))
      await this.load()
      return created
    },
  },
})
