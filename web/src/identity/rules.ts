// el-form validation rules for the identity forms, speaking the user's language.
import type { FormItemRule } from 'element-plus'
import { idNumberProblem, phoneProblem, passwordProblem, amountProblem } from './validators'

type T = (key: string, values?: Record<string, unknown>) => string

export function required(t: T): FormItemRule {
  return { required: true, message: t('validation.required'), trigger: 'blur' }
}

export function phoneRule(t: T): FormItemRule {
  return {
    trigger: ['change', 'blur'],
    validator: (_rule, value: string, cb) => {
      const problem = value ? phoneProblem(value) : null
      cb(problem ? new Error(t(`validation.${problem}`)) : undefined)
    },
  }
}

export function idNumberRule(t: T): FormItemRule {
  return {
    trigger: ['change', 'blur'],
    validator: (_rule, value: string, cb) => {
      const problem = value && value.replace(/\s/g, '').length >= 18 ? idNumberProblem(value) : null
      cb(problem ? new Error(t(`validation.${problem}`)) : undefined)
    },
  }
}

/** On blur a short ID number is also an error (while typing only complete ones are judged). */
export function idNumberCompleteRule(t: T): FormItemRule {
  return {
    trigger: 'blur',
    validator: (_rule, value: string, cb) => {
      const problem = value ? idNumberProblem(value) : null
      cb(problem ? new Error(t(`validation.${problem}`)) : undefined)
    },
  }
}

export function passwordRule(t: T, min = 8, max = 128): FormItemRule {
  return {
    trigger: ['change', 'blur'],
    validator: (_rule, value: string, cb) => {
      const problem = value ? passwordProblem(value, min, max) : null
      cb(problem ? new Error(t(`validation.${problem}`, { min, max })) : undefined)
    },
  }
}

export function amountRule(t: T): FormItemRule {
  return {
    trigger: ['change', 'blur'],
    validator: (_rule, value: string | null, cb) => {
      const problem = value ? amountProblem(String(value)) : null
      cb(problem ? new Error(t(`validation.${problem}`)) : undefined)
    },
  }
}
