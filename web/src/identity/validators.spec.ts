// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { amountProblem, idCheckCharacter, idNumberProblem, normalisePhone, passwordProblem, phoneProblem } from './validators'

describe('resident ID numbers (GB 11643), the API’s rules', () => {
  it('accepts valid numbers, with a lower-case x and spaces', () => {
    expect(idNumberProblem('11010519491231002X')).toBeNull()
    expect(idNumberProblem('11010519491231002x')).toBeNull()
    expect(idNumberProblem('110105 19491231 002X')).toBeNull()
    expect(idCheckCharacter('11010519491231002')).toBe('X')
  })

  it('names what is wrong', () => {
    expect(idNumberProblem('110105194912310021')).toBe('id_number_checksum')
    expect(idNumberProblem('1101051949123100')).toBe('id_number_format')
    expect(idNumberProblem('11010519491231002Y')).toBe('id_number_format')
    expect(idNumberProblem('99010519491231002X')).toBe('id_number_region')
    expect(idNumberProblem('110105' + '19490230' + '0021')).toBe('id_number_birth_date')
  })

  it('refuses a birth date after the reference date', () => {
    const first17 = '36010220300101001'
    expect(idNumberProblem(first17 + idCheckCharacter(first17), new Date(Date.UTC(2026, 10, 25)))).toBe('id_number_birth_date')
  })
})

describe('mobile numbers', () => {
  it('accepts mainland numbers in the usual spellings', () => {
    expect(phoneProblem('13900001001')).toBeNull()
    expect(phoneProblem('+86 139-0000-1001')).toBeNull()
    expect(normalisePhone('0086 13900001001')).toBe('13900001001')
  })

  it('refuses the rest', () => {
    expect(phoneProblem('12900001001')).toBe('phone_format')
    expect(phoneProblem('1390000100')).toBe('phone_format')
  })
})

describe('passwords and amounts', () => {
  it('checks the length rules', () => {
    expect(passwordProblem('short')).toBe('password_too_short')
    expect(passwordProblem('x'.repeat(129))).toBe('password_too_long')
    expect(passwordProblem('long enough')).toBeNull()
  })

  it('accepts amounts with up to two decimals', () => {
    expect(amountProblem('8000')).toBeNull()
    expect(amountProblem('8000.5')).toBeNull()
    expect(amountProblem('8000.555')).toBe('amount_format')
    expect(amountProblem('-1')).toBe('amount_format')
  })
})
