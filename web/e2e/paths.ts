// Where the e2e run finds the project and keeps its files.
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const WEB = resolve(fileURLToPath(import.meta.url), '../..')
export const ROOT = resolve(WEB, '..')
export const DIST = resolve(WEB, 'dist')
export const MICROCREDIT = process.env.MICROCREDIT_BIN ?? resolve(ROOT, '.venv/bin/microcredit')
export const SCREENSHOTS = resolve(WEB, 'test-results/screenshots')
/** Numbers the e2e server's SMS simulator refuses (MICROCREDIT_SMS_SIMULATOR_FAIL_PREFIX): a failing gateway. */
export const FAILING_PHONE_PREFIX = '1990000'
/** The demo database seeded once per run; each worker copies it. */
export const TEMPLATE_FILE = resolve(WEB, 'test-results/.template-dir')

/** The environment without the caller's MICROCREDIT_* settings (a developer's database URL must not leak in). */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MICROCREDIT_')))
}
