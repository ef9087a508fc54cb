// Test data and steps shared by the specs: valid resident ID numbers, fresh phone numbers, SMS codes
// read from the simulator, RFC 6238 authenticator codes, sign-in steps, screenshots and axe checks.
import { createHmac, randomInt } from 'node:crypto'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test'
import { SCREENSHOTS } from './paths'

export const DEMO_PASSWORD = 'Demo-Pass-2026'
export const ADMIN = { phone: '13900000001', totpSecret: 'MICROCREDITDEMOADMINTOTPSECRET22' }
/** The second administrator (何婷, 合规负责人): approves the contract templates 王敏 asks to publish. */
export const SECOND_ADMIN = { phone: '13900000013', totpSecret: 'MICROCREDITDEMOSECONDADMINTOTP22' }
export const OFFICER_BR01 = { phone: '13900000002' }
export const APPROVER_L1_BR01 = { phone: '13900000005' }  // 周杰, 初审员 at 城关支行
export const BRANCH_MANAGER = { phone: '13900000010' }
export const AUDITOR = { phone: '13900000011' }

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'

/** A random birth date between 1970 and 1999 (YYYYMMDD), so that generated ID numbers rarely repeat. */
function randomBirth(): string {
  const day = new Date(Date.UTC(1970, 0, 1) + randomInt(0, 30 * 365) * 86_400_000)
  return day.toISOString().slice(0, 10).replaceAll('-', '')
}

/** A valid 18-character resident ID number (region 360102, a random adult birth date unless told). */
export function idNumber(birth = randomBirth(), region = '360102'): string {
  const first17 = `${region}${birth}${String(randomInt(0, 1000)).padStart(3, '0')}`
  const sum = [...first17].reduce((s, c, i) => s + Number(c) * ID_WEIGHTS[i], 0)
  return first17 + ID_CHECK[sum % 11]
}

/** The same number with a wrong check character. */
export function withWrongChecksum(id: string): string {
  const wrong = ID_CHECK[(ID_CHECK.indexOf(id[17]) + 1) % 11]
  return id.slice(0, 17) + wrong
}

/** A fresh mainland mobile number (137 + 8 random digits). */
export function randomPhone(): string {
  return `137${String(randomInt(0, 100_000_000)).padStart(8, '0')}`
}

export function randomName(): string {
  const family = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴']
  const given = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛']
  return family[randomInt(0, family.length)] + given[randomInt(0, given.length)] + given[randomInt(0, given.length)]
}

function base32(secret: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const bytes = []
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2))
  return Buffer.from(bytes)
}

/** RFC 6238 code (HMAC-SHA1, 30 s steps, 6 digits) for time step `step`. */
export function totpAt(secret: string, step: number): string {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac('sha1', base32(secret)).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return String(value).padStart(6, '0')
}

const usedSteps = new Map<string, number>()

/**
 * A code not used before in this worker (the API refuses a step not later than the last one used). The API
 * accepts one step of drift either way, so three steps are usable at a time: the previous step's code (only
 * in the first 20 s of this step, so that it is still this step when the API checks it), this step's and the
 * next's. Only a fourth sign-in within 30 s waits (up to 30 s idle: with two steps a third sign-in did).
 */
export async function freshTotp(secret: string): Promise<string> {
  const ms = Date.now()
  const now = Math.floor(ms / 30_000)
  const last = usedSteps.get(secret) ?? -1
  const earliest = ms - now * 30_000 < 20_000 ? now - 1 : now
  let step = Math.max(earliest, last + 1)
  if (step > now + 1) {
    await new Promise((r) => setTimeout(r, (step - 1) * 30_000 - Date.now() + 500))
    step = Math.max(Math.floor(Date.now() / 30_000), last + 1)
  }
  usedSteps.set(secret, step)
  return totpAt(secret, step)
}

interface SimulatedMessage {
  id: number
  text: string
}

/** The newest 6-digit code the SMS simulator delivered to `phone` (waits for it). */
export async function smsCode(api: APIRequestContext, phone: string, newerThan = 0): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const r = await api.get(`/_sim/sms?phone=${phone}&limit=5`)
    const messages = (await r.json()) as SimulatedMessage[]
    const m = messages.find((x) => x.id > newerThan && /\d{6}/.test(x.text))
    if (m) return /(\d{6})/.exec(m.text)![1]
    await new Promise((res) => setTimeout(res, 200))
  }
  throw new Error(`no SMS code for ${phone}`)
}

/** The id of the newest simulated message to `phone` (0 if none), to wait for a newer one. */
export async function lastSmsId(api: APIRequestContext, phone: string): Promise<number> {
  const r = await api.get(`/_sim/sms?phone=${phone}&limit=1`)
  const messages = (await r.json()) as SimulatedMessage[]
  return messages[0]?.id ?? 0
}

export interface Borrower {
  phone: string
  password: string
  name: string
  idNumber: string
  token: string
}

export const CONSENT_KINDS = ['user_agreement', 'privacy_policy', 'sensitive_info'] as const

/** The version in effect of each document a registration accepts. */
export async function currentConsents(api: APIRequestContext): Promise<Record<string, string>> {
  const r = await api.get('/api/v1/public/consent-documents')
  expect(r.status()).toBe(200)
  return Object.fromEntries(((await r.json()) as { kind: string; version: string }[]).map((d) => [d.kind, d.version]))
}

/** Tick the three consent boxes of the registration page. */
export async function acceptConsents(page: Page) {
  for (const kind of CONSENT_KINDS) {
    await page.getByTestId(`consent-${kind}`).click()
    await expect(page.getByTestId(`consent-${kind}`).locator('input')).toBeChecked()
  }
}

/** Register a borrower through the API (SMS code from the simulator). */
export async function registerBorrower(api: APIRequestContext, password = 'Spring-Rain-2026'): Promise<Borrower> {
  const phone = randomPhone()
  const sent = await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })
  expect(sent.status()).toBe(202)
  const code = await smsCode(api, phone)
  const b = { phone, password, name: randomName(), idNumber: idNumber() }
  const r = await api.post('/api/v1/auth/register', {
    data: { phone, sms_code: code, real_name: b.name, id_number: b.idNumber, password, consents: await currentConsents(api) },
  })
  expect(r.status(), await r.text()).toBe(202)
  const login = await api.post('/api/v1/auth/login', { data: { phone, password, kind: 'borrower' } })
  expect(login.status(), await login.text()).toBe(200)
  return { ...b, token: (await login.json()).token }
}

/** Sign in on the borrower app with a password. */
export async function borrowerLogin(page: Page, phone: string, password: string) {
  await page.goto('/login')
  await page.getByTestId('phone').fill(phone)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/me$/)
}

/** Sign in on the staff console with a password (and the authenticator code when asked). */
export async function staffLogin(page: Page, phone: string, password = DEMO_PASSWORD, totpSecret?: string) {
  await page.goto('/staff/login')
  await page.getByTestId('phone').fill(phone)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('login-submit').click()
  if (totpSecret) {
    await page.getByTestId('totp').fill(await freshTotp(totpSecret))
    await page.getByTestId('totp-submit').click()
  }
  await expect(page.getByTestId('staff-menu')).toBeVisible()
}

/** Save a screenshot under test-results/screenshots/ (docs/images takes a few of them). */
export async function screenshot(page: Page, name: string, fullPage = false) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage, animations: 'disabled' })
}

/** Pick `option` in an Element Plus select until the select shows it: a click that lands while the list is still
 *  opening (or a select that appears as the form settles) is lost without an error (seen in CI on 6 December). */
export async function choose(page: Page, select: Locator, option: string | RegExp) {
  await expect(async () => {
    await select.click()
    await page.getByRole('option', { name: option }).click({ timeout: 2000 })
    await expect(select).toContainText(option, { timeout: 1000 })
  }).toPass({ timeout: 15_000 })
}

/** No serious or critical axe-core violations (WCAG 2.x A/AA) on the page as it is now. */
export async function expectAccessible(page: Page, name: string) {
  // Let fade-in transitions finish: a half-transparent alert is not what the user reads. A toast
  // closes by itself within seconds, and one that starts fading out while axe reads the page is
  // read half transparent (a flake seen twice): wait until toasts have gone.
  await page.locator('.el-message').first().waitFor({ state: 'detached', timeout: 6000 })
    .catch(() => undefined)
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))))
  await page.waitForTimeout(300)
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  const report = bad.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} ${n.html.slice(0, 200)}`).join('\n  ')}`)
  expect(report, `axe violations on ${name}`).toEqual([])
}

/** Sign the contract of an approved application as the borrower (SMS code on the PDF's digest), through the API. */
export async function signContract(api: APIRequestContext, b: { token: string; phone: string }, applicationId: string) {
  const headers = { Authorization: `Bearer ${b.token}` }
  const base = `/api/v1/me/applications/${applicationId}/contract`
  const made = await api.post(base, { headers })
  expect(made.status(), await made.text()).toBe(200)
  const since = await lastSmsId(api, b.phone)
  expect((await api.post(`${base}/signing-code`, { headers })).status()).toBe(200)
  const signed = await api.post(`${base}/sign`, {
    headers,
    data: { sms_code: await smsCode(api, b.phone, since), document_sha256: (await made.json()).pdf_sha256 },
  })
  expect(signed.status(), await signed.text()).toBe(200)
}

/** An ID number whose sequence code asks the bureau simulator for a clean, long credit history (94). */
export function cleanIdNumber(): string {
  for (;;) {
    const id = idNumber()
    if (id.slice(14, 16) === '94') return id
  }
}

/** A drawn image (the browser encodes it; no binary fixture in the repository). */
export async function drawn(page: Page, mime: 'image/jpeg' | 'image/png' = 'image/jpeg'): Promise<Buffer> {
  const dataUrl = await page.evaluate((type) => {
    const canvas = document.createElement('canvas')
    canvas.width = 320
    canvas.height = 200
    const g = canvas.getContext('2d')!
    g.fillStyle = '#dfe9f5'
    g.fillRect(0, 0, 320, 200)
    g.fillStyle = '#1f4e8c'
    g.fillText(`doc ${Math.random().toString(36).slice(2, 8)}`, 120, 100)
    return canvas.toDataURL(type, 0.9)
  }, mime)
  return Buffer.from(dataUrl.split(',')[1], 'base64')
}

const FINANCE_PHONE = '13900000009' // 冯琳, 财务

/** A bearer token for a user signed in through the API (staff with a second factor give its secret). */
export async function token(api: APIRequestContext, phone: string, kind: 'staff' | 'borrower', password: string, totpSecret?: string): Promise<string> {
  const login = await api.post('/api/v1/auth/login', { data: { phone, password, kind } })
  expect(login.status(), await login.text()).toBe(200)
  let body = await login.json()
  if (body.status === 'mfa_required') {
    const second = await api.post('/api/v1/auth/login/totp', { data: { mfa_token: body.mfa_token, code: await freshTotp(totpSecret!) } })
    expect(second.status(), await second.text()).toBe(200)
    body = await second.json()
  }
  return body.token as string
}

/** The administrator closes the next business date and waits for the run to finish (its early-warning step
 * scores the loans and raises warnings). */
export async function closeOfBusiness(api: APIRequestContext) {
  const ha = { Authorization: `Bearer ${await token(api, ADMIN.phone, 'staff', DEMO_PASSWORD, ADMIN.totpSecret)}` }
  const started = await api.post('/api/v1/cob/runs', { headers: ha, data: {} })
  expect(started.status(), await started.text()).toBe(202)
  const id = (await started.json()).id
  await expect.poll(async () => (await (await api.get(`/api/v1/cob/runs/${id}`, { headers: ha })).json()).run.status,
    { timeout: 150_000, intervals: [1000] }).toBe('done')
}

/** A clean borrower (registered through the API, with the documents the consumer products ask for) whose
 * application for 8,000.00 over 6 months of `product` is approved and whose contract is signed; the loan
 * opened by finance, not yet paid out. `tag` marks the application's device. */
export async function signedLoan(api: APIRequestContext, page: Page, tag: string, product = 'CONSUMER',
  beforeSubmit?: (applicationId: number) => Promise<void>): Promise<{ id: number; number: string; hb: Record<string, string>; hf: Record<string, string>; loan: { id: number; number: string; terms: { terms: { start_date: string } } } }> {
  const phone = randomPhone()
  expect((await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })).status()).toBe(202)
  const password = 'Spring-Rain-2026'
  const registered = await api.post('/api/v1/auth/register', {
    data: { phone, sms_code: await smsCode(api, phone), real_name: randomName(), id_number: cleanIdNumber(), password, consents: await currentConsents(api) },
  })
  expect(registered.status(), await registered.text()).toBe(202)
  const hb = { Authorization: `Bearer ${await token(api, phone, 'borrower', password)}` }
  await page.goto('/')
  for (const type of ['id_card', 'bank_statement']) {
    const up = await api.post('/api/v1/me/documents', { headers: hb, multipart: { type, file: { name: `${type}.jpg`, mimeType: 'image/jpeg', buffer: await drawn(page) } } })
    expect(up.status(), await up.text()).toBe(201)
  }
  const draft = await api.post('/api/v1/me/applications', {
    headers: { ...hb, 'X-Device-Id': `e2e-${tag}-${phone}` },
    data: { product_code: product, amount: '8000.00', term: 6, repayment_method: 'equal_installment', purpose: 'education', monthly_income: '50000.00', monthly_spending: '2500.00' },
  })
  expect(draft.status(), await draft.text()).toBe(201)
  const applicationId = (await draft.json()).id
  if (beforeSubmit) await beforeSubmit(applicationId)
  const submitted = await api.post(`/api/v1/me/applications/${applicationId}/submit`, { headers: hb })
  expect((await submitted.json()).status).toBe('approved')
  await signContract(api, { token: hb.Authorization.slice('Bearer '.length), phone }, String(applicationId))
  const hf = { Authorization: `Bearer ${await token(api, FINANCE_PHONE, 'staff', DEMO_PASSWORD)}` }
  const loan = await (await api.post('/api/v1/loans', { headers: hf, data: { application_id: applicationId } })).json()
  return { id: loan.id as number, number: loan.number as string, hb, hf, loan }
}

/** A clean borrower's loan of 8,000.00 (approved, contract signed, disbursed by finance 40 days back) never
 * repaid: its id and number. `tag` marks its device and payout reference; `beforeSubmit` runs on the draft. */
export async function lateLoan(api: APIRequestContext, page: Page, tag: string,
  beforeSubmit?: (applicationId: number) => Promise<void>): Promise<{ id: number; number: string }> {
  const { loan, hf } = await signedLoan(api, page, tag, 'CONSUMER', beforeSubmit)
  const back = new Date(`${loan.terms.terms.start_date}T00:00:00Z`)
  back.setUTCDate(back.getUTCDate() - 40)
  const disbursed = await api.post(`/api/v1/loans/${loan.id}/disbursements`, {
    headers: { ...hf, 'Idempotency-Key': `e2e-${tag}-${loan.id}-${Date.now()}` },
    data: { on: back.toISOString().slice(0, 10), channel: 'bank_transfer', reference: `B-E2E-${tag.toUpperCase()}` },
  })
  expect(disbursed.status(), await disbursed.text()).toBe(200)
  return { id: loan.id as number, number: loan.number as string }
}

// The risk officer 孙伟 (风控专员), who proposes early-warning actions.
export const RISK_OFFICER = { phone: '13900000004' }

// A late loan (lateLoan), the close of business run over it, its "first missed payment" warning proposed by
// the risk officer with `action` (omitted: the suggested one) and a note: what a second person then approves.
export async function proposedWarning(api: APIRequestContext, page: Page, tag: string,
  proposal: { action?: string; note: string }) {
  const loan = await lateLoan(api, page, tag)
  await closeOfBusiness(api)
  const hr = { Authorization: `Bearer ${await token(api, RISK_OFFICER.phone, 'staff', DEMO_PASSWORD)}` }
  const listed = await (await api.get('/api/v1/risk/warnings', { headers: hr, params: { loan_id: loan.id } })).json()
  const warning = listed.items.find((w: { rule: string }) => w.rule === 'first_missed_payment')
  expect(warning, JSON.stringify(listed.items)).toBeTruthy()
  const proposed = await api.post(`/api/v1/risk/warnings/${warning.id}/propose`, { headers: hr, data: proposal })
  expect(proposed.status(), await proposed.text()).toBe(200)
  return { loan, warning }
}
