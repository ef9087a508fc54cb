// The rest of en.ts (the staff console's strings), loaded by the console. In the build it holds the
// keys the borrower app does not name (scripts/i18n-parts.ts); elsewhere the whole catalogue.
export { default } from './en'
