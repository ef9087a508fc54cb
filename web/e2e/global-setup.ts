// Once per run: check the built app is there, and seed the demo data (or take the one given) into a
// template data directory that every worker copies (a fresh embedded database per worker, in a fraction
// of a second).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DIST, MICROCREDIT, SCREENSHOTS, TEMPLATE_FILE, cleanEnv } from './paths'

export default function globalSetup() {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error('web/dist is missing: run `npm run build` before `npm run test:e2e`.')
  }
  if (!existsSync(MICROCREDIT)) throw new Error(`${MICROCREDIT} is missing: run \`make setup\` first.`)
  // scripts/test.sh seeds it beforehand, beside the type check and the build (E2E_TEMPLATE_DIR, with a
  // `.seeded` mark once `demo` has ended well); run by hand, the seeding happens here.
  const given = process.env.E2E_TEMPLATE_DIR
  if (given && !existsSync(join(given, '.seeded'))) throw new Error(`E2E_TEMPLATE_DIR ${given} was not seeded`)
  const dir = given ?? mkdtempSync(join(tmpdir(), 'mc-e2e-template-'))
  if (!given) {
    execFileSync(MICROCREDIT, ['demo', '--no-serve'], {
      env: { ...cleanEnv(), MICROCREDIT_MODE: 'test', MICROCREDIT_DATA_DIR: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
  }
  mkdirSync(dirname(TEMPLATE_FILE), { recursive: true })
  mkdirSync(SCREENSHOTS, { recursive: true })
  writeFileSync(TEMPLATE_FILE, dir)
}
