import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h, nextTick, reactive, ref, withDirectives } from 'vue'
import { ElButton } from 'element-plus'
import PlainForm from './PlainForm.vue'
import PlainFormItem from './PlainFormItem.vue'
import NativeInput from './NativeInput.vue'
import NativeSelect from './NativeSelect.vue'
import NativeCheckbox from './NativeCheckbox.vue'
import { vFieldErrors } from '@/platform/directives/fieldErrors'
import { mountWithApp } from '@/test/mount'
import { rulesAt, rulesFor, valueAt } from '@/platform/plainForm'

type Exposed = {
  validate: () => Promise<boolean>
  validateField: (p: string | string[]) => Promise<boolean>
  clearValidate: (p?: string | string[]) => void
  resetFields: (p?: string | string[]) => void
}

/** A registration-like form: a phone checked as typed, a name checked on leaving, a choice, a consent box. */
function makeForm(apiError = ref<string | undefined>()) {
  const formRef = ref<Exposed>()
  const model = reactive({ phone: '', name: '', kind: '', consents: { terms: false } })
  const lang = ref('zh')
  const rules = () => ({
    phone: [
      { required: true, message: lang.value === 'zh' ? '必填' : 'Required', trigger: 'blur' },
      {
        trigger: ['change', 'blur'],
        validator: (_r: unknown, v: string, cb: (e?: Error) => void) =>
          cb(v && !/^1\d{10}$/.test(v) ? new Error(lang.value === 'zh' ? '手机号格式不对' : 'Not a phone number') : undefined),
      },
    ],
    name: [{ required: true, message: '必填', trigger: 'blur' }, { min: 2, message: '至少两个字', trigger: 'blur' }],
    kind: { required: true, message: '请选择', trigger: 'change' },
    'consents.terms': [{ trigger: 'change', validator: (_r: unknown, v: boolean, cb: (e?: Error) => void) => cb(v ? undefined : new Error('请勾选')) }],
  })
  const Form = defineComponent({
    setup() {
      return () =>
        withDirectives(h(PlainForm, { ref: formRef, model, rules: rules(), size: 'large' }, () => [
          h(PlainFormItem, { label: '手机号', prop: 'phone', error: apiError.value }, () => [
            h(NativeInput, { modelValue: model.phone, 'onUpdate:modelValue': (v: string) => (model.phone = v), 'data-testid': 'phone' }),
            h('p', { class: 'field-hint' }, '11 位'),
          ]),
          h(PlainFormItem, { label: '姓名', prop: 'name' }, () => [
            h(NativeInput, { modelValue: model.name, 'onUpdate:modelValue': (v: string) => (model.name = v), 'data-testid': 'name' }),
          ]),
          h(PlainFormItem, { label: '类别', prop: 'kind' }, () => [
            h(NativeSelect, { modelValue: model.kind, 'onUpdate:modelValue': (v: string) => (model.kind = v), placeholder: '请选择', options: [{ value: 'a', label: 'A' }], 'data-testid': 'kind' }),
          ]),
          h(PlainFormItem, { prop: 'consents.terms' }, () => [
            h(NativeCheckbox, { modelValue: model.consents.terms, 'onUpdate:modelValue': (v: boolean) => (model.consents.terms = v), 'data-testid': 'terms' }, () => '同意'),
          ]),
          h(ElButton, { nativeType: 'submit', 'data-testid': 'submit' }, () => '提交'),
        ]), [[vFieldErrors]])
    },
  })
  return { Form, formRef, model, lang, apiError }
}

const item = (w: ReturnType<typeof mountWithApp>, testid: string) =>
  w.findAll('.el-form-item').find((i) => i.find(`[data-testid=${testid}]`).exists())!

describe('PlainForm', () => {
  it('draws Element Plus’s form: the label points at the one input, a required field has its mark, the items and buttons take the form’s size', async () => {
    const { Form } = makeForm()
    const w = mountWithApp(Form, { attachTo: document.body })
    await nextTick()
    expect(w.find('form').classes()).toEqual(expect.arrayContaining(['el-form', 'el-form--large', 'el-form--label-top']))
    const phone = item(w, 'phone')
    expect(phone.classes()).toEqual(expect.arrayContaining(['el-form-item', 'el-form-item--large', 'is-required']))
    expect(phone.find('label').attributes('for')).toBe(w.find('[data-testid=phone]').attributes('id'))
    expect(phone.find('label').text()).toBe('手机号')
    expect(item(w, 'terms').classes()).not.toContain('is-required')
    expect(w.find('[data-testid=submit]').classes()).toContain('el-button--large')
    w.unmount()
  })

  it('checks a field as it is typed and when it is left, with the message under it tied to the input', async () => {
    const { Form } = makeForm()
    const w = mountWithApp(Form, { attachTo: document.body })
    const input = w.find('[data-testid=phone]')
    await input.trigger('focusin')
    await input.setValue('12')
    await vi.waitFor(() => expect(item(w, 'phone').find('.el-form-item__error').text()).toBe('手机号格式不对'))
    const error = item(w, 'phone').find('[role=alert]')
    expect(item(w, 'phone').classes()).toContain('is-error')
    await vi.waitFor(() => expect(input.attributes('aria-invalid')).toBe('true'))
    // The message first, then the hint, as v-field-errors ties them.
    expect(input.attributes('aria-describedby')).toBe(`${error.attributes('id')} ${item(w, 'phone').find('.field-hint').attributes('id')}`)
    await input.setValue('13900001001')
    await vi.waitFor(() => expect(item(w, 'phone').find('.el-form-item__error').exists()).toBe(false))
    await vi.waitFor(() => expect(input.attributes('aria-invalid')).toBeUndefined())
    // Leaving an empty name: its 'blur' rules; typing one letter alone does not run them.
    const name = w.find('[data-testid=name]')
    await name.setValue('张')
    await new Promise((r) => setTimeout(r, 20))
    expect(item(w, 'name').find('.el-form-item__error').exists()).toBe(false)
    await name.trigger('blur')
    await vi.waitFor(() => expect(item(w, 'name').find('.el-form-item__error').text()).toBe('至少两个字'))
    w.unmount()
  })

  it('validate() checks every field and rejects with the ones that failed; validateField and clearValidate name fields, nested paths too', async () => {
    const { Form, formRef, model } = makeForm()
    const w = mountWithApp(Form, { attachTo: document.body })
    await nextTick()
    const failed = await formRef.value!.validate().catch((e: Record<string, unknown>) => e)
    expect(Object.keys(failed as object).sort()).toEqual(['consents.terms', 'kind', 'name', 'phone'])
    await nextTick()
    expect(w.findAll('.el-form-item__error').map((e) => e.text())).toEqual(['必填', '必填', '请选择', '请勾选'])
    formRef.value!.clearValidate('phone')
    await nextTick()
    expect(item(w, 'phone').find('.el-form-item__error').exists()).toBe(false)
    model.consents.terms = true
    await expect(formRef.value!.validateField('consents.terms')).resolves.toBe(true)
    await nextTick()
    expect(item(w, 'terms').find('.el-form-item__error').exists()).toBe(false)
    Object.assign(model, { phone: '13900001001', name: '张三', kind: 'a' })
    await expect(formRef.value!.validate()).resolves.toBe(true)
    formRef.value!.resetFields()
    await vi.waitFor(() => expect(model.phone).toBe(''))
    expect(model.consents.terms).toBe(false)
    w.unmount()
  })

  it('shows an error from elsewhere (the API’s) beside its field until it is taken away', async () => {
    const { Form, apiError } = makeForm()
    const w = mountWithApp(Form, { attachTo: document.body })
    apiError.value = '该手机号已注册'
    await nextTick()
    await nextTick()
    expect(item(w, 'phone').find('[role=alert]').text()).toBe('该手机号已注册')
    await vi.waitFor(() => expect(w.find('[data-testid=phone]').attributes('aria-invalid')).toBe('true'))
    apiError.value = undefined
    await nextTick()
    expect(item(w, 'phone').find('[role=alert]').exists()).toBe(false)
    w.unmount()
  })

  it('checks again in the new language only the fields already checked when the rules change', async () => {
    const { Form, formRef, lang } = makeForm()
    const w = mountWithApp(Form, { attachTo: document.body })
    await w.find('[data-testid=phone]').setValue('12')
    await vi.waitFor(() => expect(item(w, 'phone').find('.el-form-item__error').text()).toBe('手机号格式不对'))
    lang.value = 'en'
    await w.vm.$forceUpdate()
    await vi.waitFor(() => expect(item(w, 'phone').find('.el-form-item__error').text()).toBe('Not a phone number'))
    expect(w.findAll('.el-form-item__error')).toHaveLength(1)
    expect(formRef.value).toBeDefined()
    w.unmount()
  })
})

describe('plainForm rules', () => {
  it('picks the rules a trigger sets off (all on submit) and finds a field’s rules and value by a dotted path', () => {
    const rules = [{ required: true, trigger: 'blur' }, { min: 2, trigger: ['change', 'blur'] }, { max: 5 }]
    expect(rulesFor(rules, 'change')).toEqual([{ min: 2 }, { max: 5 }])
    expect(rulesFor(rules, 'blur')).toHaveLength(3)
    expect(rulesFor(rules, '')).toHaveLength(3)
    expect(rulesAt({ 'a.b': { required: true } }, 'a.b')).toEqual([{ required: true }])
    expect(rulesAt({ a: [{ max: 1 }] }, 'a')).toEqual([{ max: 1 }])
    expect(rulesAt(undefined, 'a')).toEqual([])
    expect(valueAt({ a: { b: 3 } }, 'a.b')).toBe(3)
    expect(valueAt({ a: null }, 'a.b')).toBeUndefined()
  })
})
