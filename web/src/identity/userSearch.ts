// Finding a person for the sign-in history's user filter: staff by name or employee number
// (`GET /staff?q=`), borrowers by name, ID number or phone (`POST /borrowers/search`: the terms stay
// out of the URL). Each source is asked only when the caller may read it.
import { api, call } from '@/api/client'
import { searchBorrowers } from '@/parties/search'

export interface UserOption {
  user_id: number
  name: string
  kind: 'staff' | 'borrower'
  /** A second line: employee number, or the masked phone. */
  detail: string
}

/** A run of 7 or more digits may be (part of) a phone or ID number: never put it in a query string. */
export function mayBeIdentifier(term: string): boolean {
  return /\d{7,}/.test(term.replace(/\s+/g, ''))
}

/** Staff first, then borrowers; one option per account. */
export function mergeOptions(staff: UserOption[], borrowers: UserOption[]): UserOption[] {
  const seen = new Set<number>()
  return [...staff, ...borrowers].filter((o) => !seen.has(o.user_id) && seen.add(o.user_id))
}

/** Accounts matching `term` that the caller may look up (`can`: the session's permission check). */
export async function findUsers(term: string, can: (permission: string) => boolean): Promise<UserOption[]> {
  const q = term.trim()
  if (!q) return []
  const staff =
    can('staff.read') && !mayBeIdentifier(q)
      ? call(api.GET('/api/v1/staff', { params: { query: { q, page_size: 10 } } })).then((p) =>
          p.items.map((s): UserOption => ({ user_id: s.user_id, name: s.name, kind: 'staff', detail: s.employee_number })),
        )
      : Promise.resolve([])
  const borrowers = can('borrower.read')
    ? searchBorrowers({ q, page_size: 10 }).then((p) =>
        p.items.map((b): UserOption => ({ user_id: b.user_id, name: b.real_name, kind: 'borrower', detail: b.phone_masked })),
      )
    : Promise.resolve([])
  const [s, b] = await Promise.all([staff.catch(() => []), borrowers.catch(() => [])])
  return mergeOptions(s, b)
}
