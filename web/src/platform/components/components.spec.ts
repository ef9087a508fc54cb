import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h, nextTick, reactive } from 'vue'
import { ElForm, ElFormItem } from 'element-plus'
import ProblemAlert from './ProblemAlert.vue'
import LanguageSwitch from './LanguageSwitch.vue'
import NativeInput from './NativeInput.vue'
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


describe('NativeInput', () => {
  const Form = defineComponent({
    setup() {
      const form = reactive({ password: '' })
      const rules = { password: [{ required: true, message: '请输入密码', trigger: 'blur' }] }
      return () => h(ElForm, { model: form, rules, size: 'large' }, () => [
        h(ElFormItem, { label: '密码', prop: 'password' }, () => [
          h(NativeInput, {
            modelValue: form.password,
            'onUpdate:modelValue': (v: string) => (form.password = v),
            type: 'password',
            showPassword: true,
            autocomplete: 'current-password',
            'data-testid': 'password',
          }),
        ]),
      ])
    },
  })

  it('is the form item’s box: its label points at it, the attributes land on it, leaving it runs the item’s validation', async () => {
    const w = mountWithApp(Form, { attachTo: document.body })
    const input = w.find('[data-testid=password]')
    expect(input.element.tagName).toBe('INPUT')
    expect(input.attributes('autocomplete')).toBe('current-password')
    await vi.waitFor(() => expect(w.find('label').attributes('for')).toBe(input.attributes('id')))
    await input.trigger('blur')
    await vi.waitFor(() => expect(w.find('.el-form-item').classes()).toContain('is-error'))
    await input.setValue('Blue-River-Stone-9')
    expect(w.find('[data-testid=password]').element).toBe(input.element)
    await input.trigger('blur')
    await vi.waitFor(() => expect(w.find('.el-form-item').classes()).not.toContain('is-error'))
    w.unmount()
  })

  it('shows and hides a password with a labelled button', async () => {
    const w = mountWithApp(Form, { attachTo: document.body })
    const input = w.find('[data-testid=password]')
    const toggle = w.find('button')
    expect(input.attributes('type')).toBe('password')
    expect(toggle.attributes('aria-label')).toBe('显示密码')
    expect(toggle.attributes('aria-pressed')).toBe('false')
    await toggle.trigger('click')
    expect(input.attributes('type')).toBe('text')
    expect(toggle.attributes('aria-label')).toBe('隐藏密码')
    expect(toggle.attributes('aria-pressed')).toBe('true')
    w.unmount()
  })
})
