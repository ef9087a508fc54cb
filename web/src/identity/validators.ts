// The API's rules for Chinese identifiers (src/microcredit/platform/validators.py), run as the user
// types. Each check returns null or the same error code the API would answer with, so the message
// names the part that is wrong (a wrong check character is called a checksum error).

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'
const ID_PROVINCES = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64',
  '65', '71', '81', '82', '83',
])
const MIN_BIRTH_YEAR = 1800

export type IdNumberProblem = 'id_number_format' | 'id_number_region' | 'id_number_birth_date' | 'id_number_checksum'

export function normaliseIdNumber(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase()
}

/** The ISO 7064 MOD 11-2 check character of 17 digits. */
export function idCheckCharacter(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]
  return ID_CHECK[sum % 11]
}

/** Null when `value` is a valid 18-character resident ID number; else what is wrong with it. */
export function idNumberProblem(value: string, today: Date = new Date()): IdNumberProblem | null {
  const n = normaliseIdNumber(value)
  if (!/^\d{17}[\dX]$/.test(n)) return 'id_number_format'
  if (!ID_PROVINCES.has(n.slice(0, 2))) return 'id_number_region'
  const y = Number(n.slice(6, 10))
  const m = Number(n.slice(10, 12))
  const d = Number(n.slice(12, 14))
  const born = new Date(Date.UTC(y, m - 1, d))
  if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d) return 'id_number_birth_date'
  if (y < MIN_BIRTH_YEAR || born.getTime() > today.getTime()) return 'id_number_birth_date'
  if (idCheckCharacter(n.slice(0, 17)) !== n[17]) return 'id_number_checksum'
  return null
}

/** Strip spaces, hyphens, brackets and a +86 / 0086 / 86 prefix. */
export function normalisePhone(value: string): string {
  let digits = value.replace(/[\s\-()]/g, '')
  for (const prefix of ['+86', '0086', '86']) {
    if (digits.startsWith(prefix) && digits.length - prefix.length === 11) {
      digits = digits.slice(prefix.length)
      break
    }
  }
  return digits
}

/** Null when `value` is a mainland mobile number (11 digits, 1[3-9]…); else 'phone_format'. */
export function phoneProblem(value: string): 'phone_format' | null {
  return /^1[3-9]\d{9}$/.test(normalisePhone(value)) ? null : 'phone_format'
}

/** Null when the password fits the length rules of /public/config; else the rule it breaks. */
export function passwordProblem(value: string, min = 8, max = 128): 'password_too_short' | 'password_too_long' | null {
  if (value.length < min) return 'password_too_short'
  if (value.length > max) return 'password_too_long'
  return null
}

/** A money amount as typed: up to two decimals, not negative. */
export function amountProblem(value: string): 'amount_format' | null {
  return value === '' || /^\d+(\.\d{1,2})?$/.test(value.trim()) ? null : 'amount_format'
}
