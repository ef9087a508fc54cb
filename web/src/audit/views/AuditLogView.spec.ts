import { describe, expect, it } from 'vitest'
import AuditLogView from './AuditLogView.vue'
import { useSession } from '@/identity/stores/session'
import { fakeApi } from '@/test/fetch'
import { flush, mountWithApp } from '@/test/mount'
import { me } from '@/test/fixtures'

const auditor = () => {
  useSession().me = me({ roles: ['auditor'], scope: 'institution', permissions: ['audit.read'] })
}
const row = (seq: number | null, action: string) => ({
  seq, at: '2026-12-05T06:00:00Z', institution_id: 1, actor_user_id: null, actor_name: null, actor_kind: 'system',
  action, entity_type: null, entity_id: null, target_name: null, ip: null, request_id: null, before: null,
  after: null, hash: seq === null ? null : 'ab'.repeat(32),
})

describe('the audit log', () => {
  it('shows a record not sealed yet as "sealing" instead of a number', async () => {
    fakeApi({
      'GET /api/v1/audit-log': { body: { items: [row(null, 'branch.updated'), row(7, 'branch.created')], total: 2, page: 1, page_size: 20 } },
    })
    const w = mountWithApp(AuditLogView, {}, auditor)
    await flush()
    await flush()
    const sealing = w.findAll('[data-testid=audit-sealing]')
    expect(sealing.length).toBe(1)
    expect(sealing[0]!.text()).toBe('封存中')
    expect(w.find('[data-testid=audit-table]').text()).toContain('7')
  })
})
