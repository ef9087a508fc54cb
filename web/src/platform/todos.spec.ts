import { describe, expect, it } from 'vitest'
import { registerTodo, todoEntries, todoKind } from './todos'
import { staffPages } from '@/router'
import zhCN from '@/i18n/zh-CN'
import en from '@/i18n/en'

const CODES = ['profile_changes_pending', 'borrowers_unassigned', 'borrowers_locked', 'staff_locked', 'outbox_dead', 'applications_level1', 'applications_level2', 'applications_level3', 'applications_sla_breached', 'disbursements_waiting', 'contracts_waiting_signature', 'contract_templates_pending_approval', 'group_applications_member_refused', 'reconciliation_breaks', 'collection_sheets_waiting_handover', 'collection_promises_due', 'collection_cases_unassigned']

function message(catalogue: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], catalogue)
}

describe('the to-do registry', () => {
  it('names every code the API sends in both languages and links it to a page of the console', () => {
    const names = new Set(staffPages.map((r) => r.name))
    for (const code of CODES) {
      const kind = todoKind(code)!
      expect(kind, code).toBeDefined()
      expect(typeof message(zhCN, kind.label), kind.label).toBe('string')
      expect(typeof message(en, kind.label), kind.label).toBe('string')
      expect(names.has((kind.to as { name: string }).name), code).toBe(true)
    }
  })

  it('links each kind to the filter that resolves it', () => {
    expect(todoKind('borrowers_unassigned')!.to).toEqual({ name: 'staff-borrowers', query: { unassigned: '1' } })
    expect(todoKind('borrowers_locked')!.to).toEqual({ name: 'staff-borrowers', query: { locked: '1' } })
    expect(todoKind('staff_locked')!.to).toEqual({ name: 'staff-staff', query: { locked: '1' } })
    expect(todoKind('outbox_dead')!.to).toEqual({ name: 'staff-outbox', query: { tab: 'dead' } })
    expect(todoKind('disbursements_waiting')!.to).toEqual({ name: 'staff-loan-desk' })
    expect(todoKind('loan_changes_waiting')!.to).toEqual({ name: 'staff-loan-changes' })
    expect(todoKind('reconciliation_breaks')!.to).toEqual({ name: 'staff-reconciliation' })
    expect(todoKind('collection_sheets_waiting_handover')!.to).toEqual({ name: 'staff-sheet-handover' })
    expect(todoKind('applications_level2')!.to).toEqual({ name: 'staff-review-queue', query: { level: '2' } })
    expect(todoKind('applications_sla_breached')!.to).toEqual({ name: 'staff-review-queue' })
    expect(todoKind('applications_referred')).toBeUndefined()
  })

  it('shows only work waiting, in the API’s order, and leaves out codes it cannot name', () => {
    const shown = todoEntries([
      { code: 'outbox_dead', count: 2 },
      { code: 'profile_changes_pending', count: 0 },
      { code: 'applications_to_review', count: 4 },
      { code: 'staff_locked', count: 1 },
    ])
    expect(shown.map((e) => [e.code, e.count])).toEqual([['outbox_dead', 2], ['staff_locked', 1]])
    expect(todoEntries([])).toEqual([])
  })

  it('takes new kinds from later domains', () => {
    registerTodo('applications_to_review', { label: 'nav.borrowers', to: { name: 'staff-borrowers' } })
    expect(todoEntries([{ code: 'applications_to_review', count: 4 }])).toEqual([
      { code: 'applications_to_review', count: 4, label: 'nav.borrowers', to: { name: 'staff-borrowers' } },
    ])
  })
})
