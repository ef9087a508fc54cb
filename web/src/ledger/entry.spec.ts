import { describe, expect, it } from 'vitest'
import {
  accountTree,
  blankLine,
  blockReason,
  entryBody,
  fenToText,
  lineProblem,
  placeErrors,
  toFen,
  totals,
  type EntryLine,
  type LedgerAccount,
} from './entry'

const line = (account_code: string, debit = '', credit = ''): EntryLine => ({ account_code, debit, credit, memo: '' })

describe('amounts in the entry form', () => {
  it('are counted in fen, never as floats', () => {
    expect(toFen('0.1')).toBe(10)
    expect(toFen('0.2')).toBe(20)
    expect((toFen('0.1') ?? 0) + (toFen('0.2') ?? 0)).toBe(toFen('0.3')) // 0.1 + 0.2 !== 0.3 in floats
    expect(toFen('1234567890123.99')).toBe(123456789012399)
    expect(toFen(' 8000 ')).toBe(800000)
  })

  it('refuse what is not a plain amount of at most two places', () => {
    for (const bad of ['', '1.234', '-5', '1e5', '１００', '1,000.00', 'abc', '.5']) expect(toFen(bad)).toBeNull()
  })

  it('print back as the API strings them', () => {
    expect([fenToText(0), fenToText(5), fenToText(123450), fenToText(-1001)]).toEqual(['0.00', '0.05', '1234.50', '-10.01'])
  })
})

describe('the running totals and the submit rule', () => {
  it('show the difference while the lines are typed, and allow submitting only when it is zero', () => {
    const lines = [line('1002', '500000.00'), line('4001', '', '499999.99')]
    expect(totals(lines)).toEqual({ debit: 50_000_000, credit: 49_999_999, difference: 1 })
    expect(blockReason(lines)).toBe('unbalanced')
    lines[1].credit = '500000'
    expect(totals(lines).difference).toBe(0)
    expect(blockReason(lines)).toBeNull()
  })

  it('need a debit and a credit, each line one side with a positive amount and an account', () => {
    expect(blockReason([line('1002', '10.00'), blankLine()])).toBe('twoSides')
    expect(blockReason([line('1002', '10.00', '10.00'), line('4001', '', '10.00')])).toBe('lines')
    expect(lineProblem(line('1002', '10.00', '10.00'))).toBe('oneSide')
    expect(lineProblem(line('1002', '0'))).toBe('amount')
    expect(lineProblem(line('', '5.00'))).toBe('account')
    expect(lineProblem(blankLine())).toBeNull()
  })

  it('ignore empty rows and send amounts as strings', () => {
    const body = entryBody({
      business_date: '2026-11-25',
      description: '  注资 ',
      basis: 'both',
      lines: [line('1002', '500000'), blankLine(), line('4001', '', '500000.5')],
    })
    expect(body).toEqual({
      business_date: '2026-11-25',
      description: '注资',
      basis: 'both',
      lines: [
        { account_code: '1002', debit: '500000.00', credit: null, memo: null },
        { account_code: '4001', debit: null, credit: '500000.50', memo: null },
      ],
    })
  })
})

describe("the API's errors beside the lines", () => {
  it('go to the row they name (counting only filled rows) or beside the lines as a whole', () => {
    const lines = [line('1002', '1.00'), blankLine(), line('9999', '', '1.00')]
    const placed = placeErrors(lines, { 'lines.1.account_code': 'No such account', lines: 'Does not balance', business_date: 'Closed' })
    expect(placed).toEqual({ byRow: { 2: 'No such account' }, lines: 'Does not balance', other: { business_date: 'Closed' } })
  })
})

describe('the chart as a tree', () => {
  it('puts sub-accounts under their parent, by code', () => {
    const a = (id: number, code: string, parent_id: number | null = null) => ({ id, code, parent_id }) as LedgerAccount
    const tree = accountTree([a(3, '130101', 2), a(1, '1002'), a(2, '1301'), a(4, '1304')])
    expect(tree.map((n) => n.code)).toEqual(['1002', '1301', '1304'])
    expect(tree[1].children?.map((n) => n.code)).toEqual(['130101'])
  })
})
