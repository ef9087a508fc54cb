// API answers shaped like the real ones (typed by the generated schema).
import type { components } from '@/api/client'

export function me(overrides: Partial<components['schemas']['MeRead']> = {}): components['schemas']['MeRead'] {
  return {
    user_id: 7,
    kind: 'staff',
    display_name: '李强',
    phone_masked: '139****0002',
    institution: { id: 1, code: 'DEMO', name: '示范小额贷款有限公司', name_en: 'Demo Microcredit', business_date: '2026-11-25', timezone: 'Asia/Shanghai' },
    branch_id: 1,
    branch_name: '城关支行',
    roles: ['loan_officer'],
    permissions: ['borrower.read', 'borrower.register'],
    scope: 'branch',
    stage: 'full',
    totp_enabled: false,
    has_password: true,
    linked_providers: [],
    ...overrides,
  }
}

export function problem(status: number, code: string, detail: string, field?: string): components['schemas']['Problem'] {
  return {
    type: `https://microcredit.dev/problems/${code}`,
    title: code,
    status,
    code,
    detail,
    field: field ?? null,
    errors: field ? [{ field, code, message: detail }] : [],
  }
}
