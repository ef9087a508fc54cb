// Profile fields shared by the borrower's own profile, the staff detail and the walk-in form.
import type { components } from '@/api/client'

export type CustomerType = NonNullable<components['schemas']['ProfileFields']['customer_type']>
export const CUSTOMER_TYPES: CustomerType[] = ['consumer', 'sole_trader', 'small_business', 'farmer']
export const CONTACT_FIELDS = ['email', 'province', 'city', 'address'] as const
/** Credit-relevant fields: a borrower's change to these waits for staff review. */
export const CREDIT_FIELDS = ['customer_type', 'occupation', 'employer', 'monthly_income', 'total_assets', 'total_liabilities'] as const
export const MONEY_FIELDS = new Set(['monthly_income', 'total_assets', 'total_liabilities'])

export type ProfileField = (typeof CONTACT_FIELDS)[number] | (typeof CREDIT_FIELDS)[number]
export type ProfileValues = Record<ProfileField, string>

/** The form's values (text) from a profile. */
export function profileValues(p: Partial<Record<ProfileField, string | null | undefined>>): ProfileValues {
  const out = {} as ProfileValues
  for (const f of [...CONTACT_FIELDS, ...CREDIT_FIELDS]) out[f] = p[f] ?? ''
  return out
}

/** Only what changed, empty text as null (the API's "clear this field"). */
export function changedFields(
  before: ProfileValues,
  after: ProfileValues,
  fields: readonly ProfileField[],
): Partial<Record<ProfileField, string | null>> {
  const out: Partial<Record<ProfileField, string | null>> = {}
  for (const f of fields) {
    const value = after[f].trim()
    if (value !== before[f].trim()) out[f] = value === '' ? null : value
  }
  return out
}
