import { describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import ProblemAlert from './ProblemAlert.vue'
import LanguageSwitch from './LanguageSwitch.vue'
import { ApiError, TransientError } from '@/api/problem'
import { i18n } from '@/i18n'
import { mountWithApp } from '@/test/mount'
import { problem } from '@/test/fixtures'

describe('ProblemAlert', () => {
  it('shows the API’s message as it came (already in the user’s language)', () => {
    const w = mountWithApp(ProblemAlert, { props: { error: new ApiError(409, problem(409, 'conflict', '该身份证号码已注册')) } })
    expect(w.text()).toContain('该身份证号码已注册')
    expect(w.find('[data-code="conflict"]').exists()).toBe(true)
    expect(w.find('button').exists()).toBe(false)
  })

  it('offers a retry after a network failure or a server error', async () => {
    const w = mountWithApp(ProblemAlert, { props: { error: new TransientError(null, 'Failed to fetch') } })
    expect(w.text()).toContain('网络连接失败')
    await w.find('button').trigger('click')
    expect(w.emitted('retry')).toHaveLength(1)
    await w.setProps({ error: new TransientError(502, 'HTTP 502') })
    expect(w.text()).toContain('服务暂时无法响应')
  })

  it('shows nothing without an error', () => {
    const w = mountWithApp(ProblemAlert, { props: { error: null } })
    expect(w.find('[role=alert]').exists()).toBe(false)
  })
})

describe('LanguageSwitch', () => {
  it('switches between Chinese and English and remembers the choice', async () => {
    const w = mountWithApp(LanguageSwitch)
    expect(w.text()).toBe('English')
    await w.find('button').trigger('click')
    // English is its own chunk, loaded when first chosen.
    await vi.waitFor(() => expect(i18n.global.locale.value).toBe('en'))
    expect(i18n.global.availableLocales).toContain('en')
    expect(localStorage.getItem('mc.locale')).toBe('en')
    expect(document.documentElement.lang).toBe('en')
    await nextTick()
    expect(w.text()).toBe('中文')
    await w.find('button').trigger('click')
    await vi.waitFor(() => expect(i18n.global.locale.value).toBe('zh-CN'))
  })
})

