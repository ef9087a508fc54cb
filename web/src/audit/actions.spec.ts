// @vitest-environment node
import { describe, expect, it } from 'vitest'
import en from '@/i18n/en'
import zh from '@/i18n/zh-CN'
import recorded from './recorded-actions.json'
import { ACTION_GROUPS, ENTITY_TYPES, KNOWN_ACTIONS, actionKey } from './actions'

describe('audit actions', () => {
  it('are grouped by their first part, each group a filter prefix', () => {
    const profile = ACTION_GROUPS.find((g) => g.group === 'profile_change')!
    expect(profile.actions).toEqual(['profile_change.approved', 'profile_change.rejected', 'profile_change.withdrawn'])
    for (const g of ACTION_GROUPS) for (const a of g.actions) expect(a.startsWith(`${g.group}.`)).toBe(true)
  })

  it('name every action the back end records (release 1)', () => {
    for (const code of [
      'audit.verified', 'borrower.registered', 'borrower.updated', 'borrower.profile_updated', 'borrower.sensitive_viewed',
      'borrower.bank_card_added', 'profile_change.approved', 'profile_change.rejected', 'profile_change.withdrawn',
      'institution.created', 'institution.updated', 'business_date.set', 'branch.created', 'branch.updated',
      'staff.created', 'staff.updated', 'role.created', 'role.updated', 'role.deleted', 'user.locked', 'user.unlocked',
      'user.enabled', 'user.disabled', 'user.password_changed', 'user.password_reset', 'user.phone_changed',
      'user.totp_enrolled', 'user.totp_reset', 'user.oauth_linked', 'user.session_ended', 'user.sessions_ended',
      'consent.given', 'consent.withdrawn', 'consent_document.published',
    ]) expect(KNOWN_ACTIONS.has(code), code).toBe(true)
  })

  it('name every action the back end records, in both languages (scripts/audit_actions.py lists them)', () => {
    const lookup = (catalogue: unknown, code: string) => code.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], catalogue)
    for (const code of recorded) {
      expect(KNOWN_ACTIONS.has(code), code).toBe(true)
      expect(typeof lookup(en.auditAction, code), `en ${code}`).toBe('string')
      expect(typeof lookup(zh.auditAction, code), `zh-CN ${code}`).toBe('string')
    }
    expect(recorded.length).toBeGreaterThan(100)
  })

  it('give a catalogue key for a known code and none for an unknown one', () => {
    expect(actionKey('profile_change.rejected')).toBe('auditAction.profile_change.rejected')
    expect(actionKey('loan.disbursed_twice')).toBeNull()
    expect(actionKey('application.review.approve')).toBe('auditAction.application.review.approve')
    expect(actionKey('user')).toBeNull()
  })

  it('have a name for every group and record type', () => {
    for (const name of [...ACTION_GROUPS.map((g) => g.group), ...ENTITY_TYPES]) expect(en.auditEntity, name).toHaveProperty(name)
  })
})
