export { PeopleStore, IdentityTakenError, type Person, type Identities, type ListQuery } from './store.ts';
export { normaliseMobile, splitMobile } from './mobile.ts';
export { planChanges, applyPlan, type IncomingPerson, type Plan, type Change, type RowError } from './plan.ts';
export { parsePeopleCsv, peopleCsv, decodeCsv, normaliseDepartment, MAX_CSV_BYTES, CSV_COLUMNS } from './csv.ts';
export {
  registerDirectoryProvider,
  directoryProvider,
  type DirectoryProvider,
  type DirectoryEntry,
  type ProvisionPerson,
  type ProvisionResult,
  type ProvisionChange,
} from './directory.ts';
export { syncDirectory, provisionDirectory } from './sync.ts';
