export type { CalendarSide, CalendarSideFactory, ChangePage, SideEvent, SyncContent, SyncMarker, SyncRule, WriteOptions } from './types.ts';
export { CalendarSyncEngine, contentHash, DELETED, type RunReport, type SyncWindow } from './engine.ts';
export { CalendarSyncStore } from './store.ts';
export { formatRrule, instant, isoInZone, parseRrule } from './time.ts';
