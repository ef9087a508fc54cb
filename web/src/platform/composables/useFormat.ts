// The formatters of src/i18n/format.ts bound to the current language and the institution's time zone.
import { useI18n } from 'vue-i18n'
import { useSession } from '@/identity/stores/session'
import * as f from '@/i18n/format'
import type { Locale } from '@/i18n/format'

export function useFormat() {
  const { locale } = useI18n()
  const session = useSession()
  const lang = () => locale.value as Locale
  const zone = () => session.me?.institution.timezone ?? session.config?.institution.timezone ?? 'Asia/Shanghai'
  return {
    money: (v: string | null | undefined) => f.formatMoney(v, lang()),
    percent: (v: string | null | undefined, digits = 2) => f.formatPercent(v, lang(), digits),
    fractionPercent: (v: string | null | undefined, digits = 2) => f.formatFractionAsPercent(v, lang(), digits),
    date: (v: string | null | undefined) => f.formatDate(v, lang()),
    dateTime: (v: string | null | undefined) => f.formatDateTime(v, lang(), zone()),
  }
}
