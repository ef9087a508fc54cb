// Branches and roles of the caller's institution, for filters and forms (loaded once, refreshed on change).
import { defineStore } from 'pinia'
import { api, call, type components } from '@/api/client'

type BranchRead = components['schemas']['BranchRead']
type RoleRead = components['schemas']['RoleRead']

export const useOrganisation = defineStore('organisation', {
  state: () => ({ branches: [] as BranchRead[], roles: [] as RoleRead[], branchesLoaded: false, rolesLoaded: false }),
  getters: {
    branchName: (s) => (id: number | null | undefined) => s.branches.find((b) => b.id === id)?.name ?? '',
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
