// The borrower's unread count, shared by the header's bell and the notifications page.
import { defineStore } from 'pinia'
import { api, call } from '@/api/client'

export const useInbox = defineStore('inbox', {
  state: () => ({ unread: 0 }),
  actions: {
    /** Ask the API for the unread count (a failure keeps the last known count: the bell is not critical). */
    async refresh(): Promise<void> {
      try {
        this.unread = (await call(api.GET('/api/v1/me/notifications', { params: { query: { page_size: 1 } } }))).unread
      } catch {
        // offline or signed out: keep what we knew
      }
    },
  },
})
