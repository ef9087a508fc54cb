// The borrower app's part of en.ts. In the build it holds only the keys the borrower app names
// (scripts/i18n-parts.ts); in tests and the type check it is the whole catalogue. Messages live in en.ts.
export { default } from './en'
