// Mount a component with the app's plugins (Pinia, vue-i18n in Chinese, a memory router).
import { mount, type ComponentMountingOptions } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Component } from 'vue'
import { i18n } from '@/i18n'

/** `before` runs with the new Pinia active, before mounting (e.g. to sign someone in). */
export function mountWithApp<C extends Component>(
  component: C,
  options: ComponentMountingOptions<C> = {} as ComponentMountingOptions<C>,
  before?: () => void,
  router = appRouter(),
) {
  const pinia = createPinia()
  setActivePinia(pinia)
  before?.()
  i18n.global.locale.value = 'zh-CN'
  return mount(component, {
    ...options,
    global: { plugins: [pinia, i18n, router], ...(options.global ?? {}) },
  } as ComponentMountingOptions<C>)
}

function appRouter() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      // Named like the app's routes, so that links by name resolve.
      { path: '/staff/borrowers/:id(\\d+)', name: 'staff-borrower', component: { template: '<div />' } },
      { path: '/staff/borrowers', name: 'staff-borrowers', component: { template: '<div />' } },
      { path: '/staff/profile-changes', name: 'staff-profile-changes', component: { template: '<div />' } },
      { path: '/staff/staff', name: 'staff-staff', component: { template: '<div />' } },
      { path: '/staff/outbox', name: 'staff-outbox', component: { template: '<div />' } },
      { path: '/applications/:id(\\d+)', name: 'my-application', component: { template: '<div />' } },
      { path: '/notifications', name: 'my-notifications', component: { template: '<div />' } },
      { path: '/:p(.*)*', component: { template: '<div />' } },
    ],
  })
}

/** Mount with the app's plugins at `path` (e.g. a page that reads its query). */
export async function mountWithAppAt<C extends Component>(
  path: string,
  component: C,
  options: ComponentMountingOptions<C> = {} as ComponentMountingOptions<C>,
  before?: () => void,
) {
  const router = appRouter()
  await router.push(path)
  return { wrapper: mountWithApp(component, options, before, router), router }
}

export const flush = () => new Promise((r) => setTimeout(r, 0))
