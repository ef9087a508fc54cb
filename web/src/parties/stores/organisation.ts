// Branches and roles of the caller's institution, for filters and forms (loaded once, refreshed on change).
import { defineStore } from 'pinia'
import { api, call, type components } from '@/api/client'
import { currentLocale } from '@/i18n'
import { branchLabel } from '@/parties/branches'

type BranchRead = components['schemas']['BranchRead']
type RoleRead = components['schemas']['RoleRead']

export const useOrganisation = defineStore('organisation', {
  state: () => ({ branches: [] as BranchRead[], roles: [] as RoleRead[], branchesLoaded: false, rolesLoaded: false }),
  getters: {
    /** The branch's name in the current language (the Chinese name when it has no English one). */
    branchName: (s) => (id: number | null | undefined) => branchLabel(s.branches.find((b) => b.id === id), currentLocale()),
  },
  actions: {
    async loadBranches(force = false) {
      if (this.branchesLoaded && !force) return this.branches
      const page = await call(api.GET('/api/v1/branches', { params: { query: { page_size: 100, sort: 'code' } } }))
      this.branches = page.items
      this.branchesLoaded = true
      return this.branches
    },
    async loadRoles(force = false) {
      if (this.rolesLoaded && !force) return this.roles
      this.roles = await call(api.GET('/api/v1/roles'))
      this.rolesLoaded = true
      return this.roles
    },
  },
})
