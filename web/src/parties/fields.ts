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

type FieldChanges = Record<string, { old: string | null; new: string | null }>

/** Two values of a field as the same value ("8000" and "8000.00" are the same amount). */
export function sameValue(field: string, a: unknown, b: unknown): boolean {
  const text = (v: unknown) => (v === null || v === undefined ? '' : String(v).trim())
  if (MONEY_FIELDS.has(field)) {
    const amount = (v: string) => v.replace(/^0+(?=\d)/, '').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')
    return amount(text(a)) === amount(text(b))
  }
  return text(a) === text(b)
}

/**
 * The fields of a change that staff edited after it was requested (409 change_outdated): those the
 * problem lists in `fields`, else those whose value now differs from the value the borrower asked to
 * change, else every field of the change.
 */
export function outdatedFields(change: { changes: FieldChanges }, named: readonly string[] | null | undefined,
  current: object | null): string[] {
  const fields = Object.keys(change.changes)
  const listed = fields.filter((f) => named?.includes(f))
  if (listed.length) return listed
  if (current) {
    const now = current as Record<string, unknown>
    const moved = fields.filter((f) => !sameValue(f, now[f], change.changes[f].old))
    if (moved.length) return moved
  }
  return fields
}
