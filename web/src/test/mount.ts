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
) {
  const pinia = createPinia()
  setActivePinia(pinia)
  before?.()
  i18n.global.locale.value = 'zh-CN'
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div />' } }] })
  return mount(component, {
    ...options,
    global: { plugins: [pinia, i18n, router], ...(options.global ?? {}) },
  } as ComponentMountingOptions<C>)
}

export const flush = () => new Promise((r) => setTimeout(r, 0))
