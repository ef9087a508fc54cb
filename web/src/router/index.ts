// The route map. Borrower app at `/`, staff console under `/staff`; every page is lazy-loaded.
//
// meta.auth: 'borrower' | 'staff' — who may open the page (signed in as that kind);
// meta.permission: the permission the staff page needs (else the 403 page; `a|b`: any of them);
// meta.guest: sign-in pages (a signed-in visitor goes to their home).
// meta.prefetch: the page's first API request, started by preloadRoute with the page's code (issue 20).
import {
  createRouter,
  createWebHistory,
  START_LOCATION,
  type RouteLocationNormalized,
  type RouteRecordRaw,
  type Router,
} from 'vue-router'
import { useSession } from '@/identity/stores/session'
import { loadStaffMessages } from '@/i18n'
import { prefetchOffer } from '@/products/offers'

declare module 'vue-router' {
  interface RouteMeta {
    auth?: 'borrower' | 'staff'
    permission?: string
    guest?: boolean
    /** i18n key of the page title. */
    title?: string
    /** A borrower-app page that uses the width of a desktop screen when there is one. */
    wide?: boolean
    /** Start what the page asks the API for first, with its code (preloadRoute), not a mount later. */
    prefetch?: (to: Pick<RouteLocationNormalized, 'params'>) => void
  }
}

/** The review queue is for whoever approves at some level. */
const APPROVERS = 'loan.approve.level1|loan.approve.level2|loan.approve.level3'

export const staffPages: RouteRecordRaw[] = [
  { path: '', name: 'staff-home', component: () => import('@/identity/views/StaffHomeView.vue'), meta: { title: 'nav.staffHome' } },
  { path: 'borrowers', name: 'staff-borrowers', component: () => import('@/parties/views/BorrowerListView.vue'), meta: { permission: 'borrower.read', title: 'nav.borrowers' } },
  { path: 'guarantors', name: 'staff-guarantors', component: () => import('@/parties/views/GuarantorSearchView.vue'), meta: { permission: 'borrower.read', title: 'nav.guarantors' } },
  { path: 'borrowers/new', name: 'staff-borrower-new', component: () => import('@/parties/views/WalkInRegistrationView.vue'), meta: { permission: 'borrower.register', title: 'nav.walkIn' } },
  { path: 'borrowers/:id(\\d+)', name: 'staff-borrower', component: () => import('@/parties/views/BorrowerDetailView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'borrower.read', title: 'borrower.detailTitle' } },
  { path: 'profile-changes', name: 'staff-profile-changes', component: () => import('@/parties/views/ProfileChangesView.vue'), meta: { permission: 'borrower.review_change', title: 'nav.profileChanges' } },
  { path: 'institutions', name: 'staff-institutions', component: () => import('@/parties/views/InstitutionsView.vue'), meta: { permission: 'institution.read', title: 'nav.institutions' } },
  { path: 'branches', name: 'staff-branches', component: () => import('@/parties/views/BranchesView.vue'), meta: { permission: 'branch.read', title: 'nav.branches' } },
  { path: 'staff', name: 'staff-staff', component: () => import('@/parties/views/StaffListView.vue'), meta: { permission: 'staff.read', title: 'nav.staff' } },
  { path: 'roles', name: 'staff-roles', component: () => import('@/identity/views/RolesView.vue'), meta: { permission: 'role.read', title: 'nav.roles' } },
  { path: 'login-history', name: 'staff-login-history', component: () => import('@/identity/views/LoginHistoryView.vue'), meta: { permission: 'security.login_history', title: 'nav.loginHistory' } },
  { path: 'audit-log', name: 'staff-audit-log', component: () => import('@/audit/views/AuditLogView.vue'), meta: { permission: 'audit.read', title: 'nav.auditLog' } },
  { path: 'cob', name: 'staff-cob', component: () => import('@/cob/views/CobMonitorView.vue'), meta: { permission: 'cob.run', title: 'nav.cob' } },
  { path: 'outbox', name: 'staff-outbox', component: () => import('@/notifications/views/OutboxView.vue'), meta: { permission: 'outbox.read', title: 'nav.outbox' } },
  { path: 'account', name: 'staff-account', component: () => import('@/identity/views/StaffAccountView.vue'), meta: { title: 'account.title' } },
  { path: 'calculator', name: 'staff-calculator', component: () => import('@/lending/views/CalculatorView.vue'), meta: { title: 'nav.calculator' } },
  { path: 'products', name: 'staff-products', component: () => import('@/products/views/ProductListView.vue'), meta: { permission: 'product.read', title: 'nav.products' } },
  { path: 'products/new', name: 'staff-product-new', component: () => import('@/products/views/ProductEditorView.vue'), meta: { permission: 'product.manage', title: 'products.newTitle' } },
  { path: 'products/:code([A-Z0-9_-]+)', name: 'staff-product', component: () => import('@/products/views/ProductEditorView.vue'), props: (r) => ({ code: String(r.params.code) }), meta: { permission: 'product.read', title: 'nav.products' } },
  { path: 'contract-templates', name: 'staff-contract-templates', component: () => import('@/contracts/views/ContractTemplatesView.vue'), meta: { permission: 'product.manage|contract.template.approve', title: 'contract.templates.title' } },
  { path: 'lpr', name: 'staff-lpr', component: () => import('@/products/views/LprView.vue'), meta: { permission: 'product.read', title: 'nav.lpr' } },
  { path: 'ledger/accounts', name: 'staff-ledger-accounts', component: () => import('@/ledger/views/ChartView.vue'), meta: { permission: 'ledger.read', title: 'nav.ledgerAccounts' } },
  { path: 'ledger/journal', name: 'staff-ledger-journal', component: () => import('@/ledger/views/JournalView.vue'), meta: { permission: 'ledger.read', title: 'nav.journal' } },
  { path: 'ledger/entries/new', name: 'staff-ledger-entry-new', component: () => import('@/ledger/views/EntryFormView.vue'), meta: { permission: 'ledger.post', title: 'nav.newEntry' } },
  { path: 'ledger/entries/:id(\\d+)', name: 'staff-ledger-entry', component: () => import('@/ledger/views/EntryDetailView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'ledger.read', title: 'ledger.entryTitleShort' } },
  { path: 'ledger/trial-balance', name: 'staff-ledger-trial-balance', component: () => import('@/ledger/views/TrialBalanceView.vue'), meta: { permission: 'ledger.read', title: 'nav.trialBalance' } },
  { path: 'ledger/statement', name: 'staff-ledger-statement', component: () => import('@/ledger/views/StatementView.vue'), meta: { permission: 'ledger.read', title: 'nav.statement' } },
  { path: 'applications', name: 'staff-applications', component: () => import('@/origination/views/ApplicationListView.vue'), meta: { permission: 'loan.read', title: 'nav.applications' } },
  { path: 'applications/new', name: 'staff-application-new', component: () => import('@/origination/views/WalkInApplicationView.vue'), meta: { permission: 'loan.apply', title: 'nav.newApplication' } },
  { path: 'applications/:id(\\d+)', name: 'staff-application', component: () => import('@/origination/views/ApplicationDetailView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'loan.read', title: 'origination.detailTitle' } },
  { path: 'loans', name: 'staff-loans', component: () => import('@/servicing/views/LoanListView.vue'), meta: { permission: 'loan.read', title: 'loan.nav.list' } },
  { path: 'loans/desk', name: 'staff-loan-desk', component: () => import('@/servicing/views/DisbursementDeskView.vue'), meta: { permission: 'loan.disburse', title: 'loan.nav.desk' } },
  { path: 'loan-changes', name: 'staff-loan-changes', component: () => import('@/servicing/views/LoanChangesView.vue'), meta: { permission: 'loan.change.approve', title: 'loan.nav.changes' } },
  { path: 'collection-sheets/handover', name: 'staff-sheet-handover', component: () => import('@/groups/views/SheetHandoverView.vue'), meta: { permission: 'repayment.record', title: 'sheetHandover.title' } },
  { path: 'loans/reconciliation', name: 'staff-reconciliation', component: () => import('@/servicing/views/ReconciliationView.vue'), meta: { permission: 'repayment.record', title: 'payment.recon.title' } },
  { path: 'loans/:id(\\d+)', name: 'staff-loan', component: () => import('@/servicing/views/LoanDetailView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'loan.read', title: 'loan.detailTitle' } },
  { path: 'collections/mine', name: 'staff-collection-mine', component: () => import('@/collections/views/MyCasesView.vue'), meta: { permission: 'collection.act', title: 'collection.nav.mine' } },
  { path: 'collections', name: 'staff-collections', component: () => import('@/collections/views/ManageView.vue'), meta: { permission: 'collection.manage', title: 'collection.nav.manage' } },
  { path: 'collections/cases/:id(\\d+)', name: 'staff-collection-case', component: () => import('@/collections/views/CaseView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'collection.act|collection.manage', title: 'collection.caseTitle' } },
  { path: 'groups', name: 'staff-groups', component: () => import('@/groups/views/GroupsView.vue'), meta: { permission: 'borrower.read', title: 'group.title' } },
  { path: 'groups/:id(\\d+)', name: 'staff-group', component: () => import('@/groups/views/GroupView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'borrower.read', title: 'group.title' } },
  { path: 'group-applications', name: 'staff-group-applications', component: () => import('@/groups/views/GroupApplicationsView.vue'), meta: { permission: 'loan.read', title: 'group.applications' } },
  { path: 'group-applications/new', name: 'staff-group-application-new', component: () => import('@/groups/views/GroupApplicationFormView.vue'), meta: { permission: 'loan.apply', title: 'group.newApplication' } },
  { path: 'group-applications/:id(\\d+)', name: 'staff-group-application', component: () => import('@/groups/views/GroupApplicationView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'loan.read', title: 'group.applications' } },
  { path: 'reviews', name: 'staff-review-queue', component: () => import('@/origination/views/ReviewQueueView.vue'), meta: { permission: APPROVERS, title: 'approval.queueTitle' } },
  { path: 'applications/:id(\\d+)/review', name: 'staff-application-review', component: () => import('@/origination/views/ReviewView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'loan.read', title: 'approval.reviewTitle' } },
  { path: 'risk/rules', name: 'staff-risk-rules', component: () => import('@/risk/views/RuleSetsView.vue'), meta: { permission: 'risk.read', title: 'nav.riskRules' } },
  { path: 'risk/rules/:code([A-Za-z0-9_-]+)/:number(\\d+)', name: 'staff-risk-version', component: () => import('@/risk/views/RuleSetEditorView.vue'), props: (r) => ({ code: String(r.params.code), number: Number(r.params.number) }), meta: { permission: 'risk.read', title: 'nav.riskRules' } },
  { path: 'risk/models', name: 'staff-risk-models', component: () => import('@/risk/views/ModelsView.vue'), meta: { permission: 'risk.read', title: 'nav.riskModels' } },
  { path: 'risk/models/:code([a-z0-9_-]+)/:number(\\d+)', name: 'staff-risk-model-version', component: () => import('@/risk/views/ModelVersionView.vue'), props: (r) => ({ code: String(r.params.code), number: Number(r.params.number) }), meta: { permission: 'risk.read', title: 'nav.riskModels' } },
  { path: 'risk/early-defaults', name: 'staff-risk-early-defaults', component: () => import('@/risk/views/EarlyDefaultsView.vue'), meta: { permission: 'risk.read', title: 'nav.riskEarlyDefaults' } },
  { path: 'risk/blacklist', name: 'staff-risk-blacklist', component: () => import('@/risk/views/BlacklistView.vue'), meta: { permission: 'risk.manage', title: 'nav.riskBlacklist' } },
  { path: 'risk/fraud', name: 'staff-risk-fraud', component: () => import('@/risk/fraud/FraudCasesView.vue'), meta: { permission: 'risk.fraud.investigate', title: 'nav.riskFraud' } },
  { path: 'risk/fraud-model', name: 'staff-risk-fraud-model', component: () => import('@/risk/fraud/AnomalyModelView.vue'), meta: { permission: 'risk.read', title: 'nav.riskFraudModel' } },
  { path: 'risk/fraud/:id(\\d+)', name: 'staff-risk-fraud-case', component: () => import('@/risk/fraud/FraudCaseView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'risk.fraud.investigate', title: 'nav.riskFraud' } },
  { path: 'risk/warnings', name: 'staff-risk-warnings', component: () => import('@/risk/views/WarningsView.vue'), meta: { permission: 'risk.warning.handle', title: 'nav.riskWarnings' } },
  { path: 'risk/warnings/:id(\\d+)', name: 'staff-risk-warning', component: () => import('@/risk/views/WarningView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'risk.warning.handle', title: 'warning.detailTitle' } },
  { path: 'risk/bureau', name: 'staff-risk-bureau', component: () => import('@/risk/views/BureauReportView.vue'), meta: { permission: 'risk.manage', title: 'nav.riskBureau' } },
  { path: 'risk/bureau-reports/:id(\\d+)', name: 'staff-risk-bureau-report', component: () => import('@/risk/views/BureauReportView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { permission: 'loan.read', title: 'nav.riskBureau' } },
  { path: 'calendar', name: 'staff-calendar', component: () => import('@/products/views/CalendarView.vue'), meta: { permission: 'calendar.read', title: 'nav.calendar' } },
  { path: 'forbidden', name: 'staff-forbidden', component: () => import('@/platform/views/ForbiddenView.vue'), meta: { title: 'errors.forbiddenTitle' } },
  // An unknown console address: the 404 page inside the console's frame.
  { path: ':pathMatch(.*)*', name: 'staff-not-found', component: () => import('@/platform/views/NotFoundView.vue'), meta: { title: 'errors.notFoundTitle' } },
]

const routes: RouteRecordRaw[] = [
  {
    path: '/',
    component: () => import('@/shells/BorrowerShell.vue'),
    children: [
      { path: '', name: 'home', component: () => import('@/identity/views/BorrowerHomeView.vue'), meta: { title: 'nav.home' } },
      { path: 'login', name: 'login', component: () => import('@/identity/views/LoginView.vue'), meta: { guest: true, title: 'login.title' } },
      { path: 'register', name: 'register', component: () => import('@/identity/views/RegisterView.vue'), meta: { guest: true, title: 'register.title' } },
      { path: 'reset-password', name: 'reset-password', component: () => import('@/identity/views/ResetPasswordView.vue'), meta: { title: 'reset.title' } },
      { path: 'oauth/complete', name: 'oauth-complete', component: () => import('@/identity/views/OAuthCompleteView.vue'), meta: { title: 'oauth.title' } },
      { path: 'sms-inbox', name: 'sms-inbox', component: () => import('@/identity/views/SmsInboxView.vue'), meta: { title: 'sms.inboxTitle' } },
      { path: 'calculator', name: 'calculator', component: () => import('@/lending/views/CalculatorView.vue'), meta: { title: 'nav.calculator', wide: true } },
      { path: 'products', name: 'products', component: () => import('@/products/views/OffersView.vue'), meta: { title: 'offers.title' } },
      { path: 'products/:code([A-Z0-9_-]+)', name: 'product', component: () => import('@/products/views/OfferView.vue'), props: (r) => ({ code: String(r.params.code) }), meta: { title: 'offers.title', prefetch: (r) => prefetchOffer(String(r.params.code)) } },
      { path: 'products/:code([A-Z0-9_-]+)/apply', name: 'apply', component: () => import('@/origination/views/ApplyView.vue'), props: (r) => ({ code: String(r.params.code) }), meta: { auth: 'borrower', title: 'origination.applyShort', prefetch: (r) => prefetchOffer(String(r.params.code)) } },
      { path: 'applications', name: 'my-applications', component: () => import('@/origination/views/MyApplicationsView.vue'), meta: { auth: 'borrower', title: 'nav.myApplications' } },
      { path: 'applications/:id(\\d+)/contract', name: 'my-contract', component: () => import('@/contracts/views/MyContractView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { auth: 'borrower', title: 'contract.title' } },
      { path: 'applications/:id(\\d+)', name: 'my-application', component: () => import('@/origination/views/MyApplicationView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { auth: 'borrower', title: 'nav.myApplications' } },
      { path: 'loans', name: 'my-loans', component: () => import('@/servicing/views/MyLoansView.vue'), meta: { auth: 'borrower', title: 'loan.my.title' } },
      { path: 'loans/:id(\\d+)', name: 'my-loan', component: () => import('@/servicing/views/MyLoanView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { auth: 'borrower', title: 'loan.my.title' } },
      { path: 'group', name: 'my-group', component: () => import('@/servicing/views/MyGroupView.vue'), meta: { auth: 'borrower', title: 'loan.group.title' } },
      { path: 'notifications', name: 'my-notifications', component: () => import('@/notifications/views/MyNotificationsView.vue'), meta: { auth: 'borrower', title: 'inbox.title' } },
      { path: 'me', name: 'me', component: () => import('@/parties/views/MyProfileView.vue'), meta: { auth: 'borrower', title: 'nav.me' } },
      { path: 'me/documents', name: 'my-documents', component: () => import('@/documents/views/MyDocumentsView.vue'), meta: { auth: 'borrower', title: 'documents.title' } },
      { path: 'forbidden', name: 'forbidden', component: () => import('@/platform/views/ForbiddenView.vue'), meta: { title: 'errors.forbiddenTitle' } },
      // Any other address: the 404 page inside the borrower app's frame (the console has its own).
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('@/platform/views/NotFoundView.vue'), meta: { title: 'errors.notFoundTitle' } },
    ],
  },
  { path: '/staff/login', name: 'staff-login', component: () => import('@/identity/views/StaffLoginView.vue'), meta: { guest: true, title: 'staffLogin.title' } },
  { path: '/staff/enrol', name: 'staff-enrol', component: () => import('@/identity/views/TotpEnrolmentView.vue'), meta: { title: 'enrol.title' } },
  {
    path: '/staff',
    component: () => import('@/shells/StaffShell.vue'),
    meta: { auth: 'staff' },
    children: staffPages,
  },
]

const STAFF_PREFIX = '/staff'
/** The `/auth/me` request under way, if any (one at a time however many navigations wait for it). */
let pendingMe: Promise<void> | null = null

/** Where a page outside the caller's reach sends them, or nothing when they may stay. */
export async function guard(to: RouteLocationNormalized) {
  const session = useSession()
  const staffArea = to.path === STAFF_PREFIX || to.path.startsWith(STAFF_PREFIX + '/')
  if (session.token && !session.me) {
    pendingMe ??= session.fetchMe().then(() => undefined, () => session.clear()).finally(() => (pendingMe = null))
    // A borrower's page does not wait for who they are (it paints sooner; an expired session is sent
    // to the sign-in page by the API client's 401 hook). The console and the sign-in pages decide on it.
    if (session.isStaff || staffArea || to.meta.guest) await pendingMe
  }
  // The console's strings are not in the borrower app's catalogue part (src/i18n/index.ts).
  if (staffArea || session.isStaff) await loadStaffMessages().catch(() => undefined)
  const auth = to.meta.auth ?? (staffArea && !to.meta.guest && to.name !== 'staff-enrol' ? 'staff' : undefined)

  if (to.name === 'staff-enrol') {
    if (!session.signedIn || !session.isStaff) return { name: 'staff-login' }
    return true
  }
  if (to.meta.guest && session.signedIn && session.me) {
    if (session.isStaff) return session.needsEnrolment ? { name: 'staff-enrol' } : { name: 'staff-home' }
    return { name: 'me' }
  }
  if (session.isStaff && session.needsEnrolment && to.name !== 'not-found') return { name: 'staff-enrol' }
  if (auth === 'staff') {
    if (!session.signedIn) return { name: 'staff-login', query: { redirect: to.fullPath } }
    if (!session.isStaff) return { name: 'forbidden', query: { from: to.fullPath } }
    if (!session.can(to.meta.permission)) return { name: 'staff-forbidden', query: { from: to.fullPath } }
    return true
  }
  // The borrower app: a staff member never sees its navigation (an unknown address is the console's 404).
  if (!staffArea && session.isStaff && to.name === 'not-found') {
    return { name: 'staff-not-found', params: { pathMatch: to.path.split('/').filter(Boolean) } }
  }
  if (!staffArea && session.isStaff && to.name !== 'oauth-complete') {
    return to.name === 'calculator' ? { name: 'staff-calculator' } : { name: 'staff-home' }
  }
  if (auth === 'borrower' && !session.signedIn) return { name: 'login', query: { redirect: to.fullPath } }
  return true
}

/**
 * Where a navigation leaves the window's scroll: where it was when going back or forward (or after a
 * reload), the top for a new page, and untouched on the first navigation of a fresh load, which is at
 * the top already. Scrolling there anyway forces a layout of the whole page before its first paint
 * (~0.1-0.5 s under the slow profile's 4x CPU, issue 20).
 */
export function scrollPosition(
  _to: RouteLocationNormalized,
  from: RouteLocationNormalized,
  saved: { left: number; top: number } | null,
): { left?: number; top: number } | false {
  if (saved) return saved
  if (from === START_LOCATION) return false
  return { top: 0 }
}

export function createAppRouter() {
  const router = createRouter({
    history: createWebHistory(),
    routes,
    scrollBehavior: scrollPosition,
  })
  router.beforeEach(guard)
  reloadOnStaleChunk(router)
  return router
}

/**
 * Start downloading the code of the page at `path` now (at start-up, beside the stylesheets and the
 * language), instead of once the app has mounted and the guard has run. Not for a page the guard
 * will send a signed-out visitor away from.
 */
export function preloadRoute(router: Router, path: string, signedIn: boolean): void {
  const resolved = router.resolve(path)
  const matched = resolved.matched
  if (!signedIn && matched.some((r) => r.meta.auth)) return
  for (const record of matched) record.meta.prefetch?.(resolved)
  for (const record of matched) {
    for (const component of Object.values(record.components ?? {})) {
      if (typeof component === 'function') void (component as () => Promise<unknown>)().catch(() => undefined)
    }
  }
}

const STALE_CHUNK = /dynamically imported module|Importing a module script failed/i

/**
 * A page's code that the server no longer has (a release since this tab loaded it, the service
 * worker's cache replaced): open the address again, once, so the new release loads, instead of
 * leaving the user on a page that never comes. Once per address and tab: a chunk that still fails
 * after the reload is a real error and stays one.
 */
export function reloadOnStaleChunk(
  router: Router,
  storage: Pick<Storage, 'getItem' | 'setItem'> = window.sessionStorage,
  open: (url: string) => void = (url) => window.location.assign(url),
) {
  router.onError((error: unknown, to: RouteLocationNormalized) => {
    const message = error instanceof Error ? error.message : String(error)
    if (!STALE_CHUNK.test(message)) return
    const key = `microcredit.stale-chunk:${to.fullPath}`
    if (storage.getItem(key)) return
    storage.setItem(key, '1')
    open(to.fullPath)
  })
}
