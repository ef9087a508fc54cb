// A profile field's label and a value of it as the reader sees them (money formatted, customer types
// named, an empty value said so).
import { useI18n } from 'vue-i18n'
import { MONEY_FIELDS } from './fields'
import { useFormat } from '@/platform/composables/useFormat'

export function useFieldText() {
  const { t, te } = useI18n()
  const fmt = useFormat()
  return {
    label: (field: string) => (te(`fields.${field}`) ? t(`fields.${field}`) : field),
    value(field: string, value: string | null | undefined): string {
      if (value === null || value === undefined || value === '') return t('common.empty')
      if (MONEY_FIELDS.has(field)) return fmt.money(value)
      if (field === 'customer_type' && te(`customerType.${value}`)) return t(`customerType.${value}`)
      return value
    },
  }
}
