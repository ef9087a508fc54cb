// What PlainForm.vue and PlainFormItem.vue share: the rules of a field filtered by what set them off
// (typing, leaving the field), and running them with async-validator, the library Element Plus's form
// uses — fetched the first time a form is used (focused), not with the page (issue 20). The rules are
// Element Plus's (`FormItemRule`: required, min/max, pattern, a validator function, `trigger`), so
// rule files such as identity/rules.ts serve both forms.
import type { FormItemRule } from 'element-plus'

export type PlainRule = FormItemRule
/** A form's rules by field path ('phone', 'consents.user_agreement'). */
export type PlainRules = Record<string, PlainRule | PlainRule[] | undefined>
/** What a failed validation rejects with, by field path (Element Plus's `invalidFields`). */
export type InvalidFields = Record<string, { message?: string; field?: string }[]>

let validator: Promise<typeof import('async-validator')> | undefined

/** async-validator, fetched once (a form calls this when first focused, so that it is there by the first check). */
export function loadValidator(): Promise<typeof import('async-validator')> {
  validator ??= import('async-validator')
  return validator
}

/** The rules that `trigger` sets off ('' = all, as on submit), without their trigger. */
export function rulesFor(rules: readonly PlainRule[], trigger: string): PlainRule[] {
  return rules
    .filter((rule) => {
      if (!rule.trigger || !trigger) return true
      return Array.isArray(rule.trigger) ? rule.trigger.includes(trigger) : rule.trigger === trigger
    })
    .map(({ trigger: _, ...rule }) => rule)
}

/** Check `value` against `rules`; resolves with the first message, or null when it passes. */
export async function check(field: string, rules: readonly PlainRule[], value: unknown): Promise<string | null> {
  const { default: Schema } = await loadValidator()
  try {
    await new Schema({ [field]: [...rules] }).validate({ [field]: value }, { firstFields: true })
    return null
  } catch (e) {
    const errors = (e as { errors?: { message?: string }[] | null }).errors
    if (!errors) throw e
    return errors[0]?.message ?? `${field} is required`
  }
}

/** The value at a dotted path of the model ('consents.user_agreement'). */
export function valueAt(model: Record<string, unknown> | undefined, path: string): unknown {
  let at: unknown = model
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined
    at = (at as Record<string, unknown>)[key]
  }
  return at
}

/** The rules of a field path: a form's rules are keyed by the whole path, or nested by its parts. */
export function rulesAt(rules: PlainRules | undefined, path: string): PlainRule[] {
  if (!rules || !path) return []
  const own = path in rules ? rules[path] : valueAt(rules as Record<string, unknown>, path)
  if (!own) return []
  return (Array.isArray(own) ? own : [own]) as PlainRule[]
}

/** Set the value at a dotted path of the model (resetting a field). */
export function setAt(model: Record<string, unknown> | undefined, path: string, value: unknown): void {
  const keys = path.split('.')
  const last = keys.pop()
  let at: unknown = model
  for (const key of keys) {
    if (at === null || typeof at !== 'object') return
    at = (at as Record<string, unknown>)[key]
  }
  if (last !== undefined && at !== null && typeof at === 'object') (at as Record<string, unknown>)[last] = value
}
