/** Child processes of the benchmark (sink, baseline, hub) and their memory, read from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');

/** The Node flags `npm start` gives the compiled hub (package.json "start"), so benches run it as production does. */
export const PRODUCTION_NODE_ARGS = (() => {
  const start: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  return (/^node ((?:--\S+ )*)dist\/app\/main\.js/.exec(start)?.[1] ?? '').split(' ').filter(Boolean);
})();

export interface Child {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last lines the process printed (stdout and stderr), for error messages. */
  tail(): string;
  /** pino lines at warn (40) and at error or fatal (50, 60) that it printed. */
  logLines(): { warn: number; error: number };
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }>;
}

/** Children still running, so that a hard stop can end them (each by its own pid). */
const live = new Set<ChildProcess>();
export function killLiveChildren(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export function spawnChild(name: string, args: string[], env: Record<string, string>, logFile?: string): Child {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let partial = '';
  const levels = { warn: 0, error: 0 };
  const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : undefined;
  const onData = (c: Buffer) => {
    const text = c.toString('utf8');
    out = (out + text).slice(-20_000);
    const lines = (partial + text).split('\n');
    partial = lines.pop()!.slice(-10_000);
    for (const line of lines) {
      const m = /"level":(\d+)/.exec(line);
      const level = m ? Number(m[1]) : 0;
      if (level >= 50) levels.error += 1;
      else if (level >= 40) levels.warn += 1;
    }
    log?.write(c);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      log?.end();
      resolve({ code, signal });
    });
  });
  return {
    name,
    child,
    pid: child.pid!,
    tail: () => out.slice(-3000),
    logLines: () => ({ ...levels }),
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return { ...(await exited), forced: false };
      child.kill('SIGTERM');
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        child.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return { ...result, forced };
    },
  };
}

/** Waits until the child prints a line matching `pattern`; returns the first capture group. */
export function waitForOutput(c: Child, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (err?: Error, value?: string) => {
      clearTimeout(timer);
      c.child.stdout!.off('data', onData);
      c.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value ?? '');
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const m = pattern.exec(seen);
      if (m) done(undefined, m[1] ?? m[0]);
    };
    const onExit = (code: number | null) => done(new Error(`${c.name} exited with ${code} before it was ready:\n${c.tail()}`));
    const timer = setTimeout(() => done(new Error(`${c.name} did not print ${pattern} within ${timeoutMs} ms:\n${c.tail()}`)), timeoutMs);
    c.child.stdout!.on('data', onData);
    c.child.once('exit', onExit);
  });
}

/** Polls `url` until it answers 200 (bounded by `timeoutMs`). */
export async function waitForHttp200(url: string, timeoutMs: number, c?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (c && (c.child.exitCode !== null || c.child.signalCode !== null))
      throw new Error(`${c.name} exited before ${url} answered:\n${c.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (res.status === 200) return;
      last = `${res.status} ${text.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})${c ? `\n${c.tail()}` : ''}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { freePort } from '../core/net/free-port.ts';

// ---------------------------------------------------------------------------------------------
// Memory

function readKb(file: string, field: string): number {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // the process exited between the listing and the read
  }
}

/** Every process below `root` (children, grandchildren…), by scanning /proc/<pid>/stat. */
export function descendantsOf(root: number): { pid: number; comm: string }[] {
  const children = new Map<number, { pid: number; comm: string }[]>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push({ pid: Number(entry), comm });
    children.set(ppid, list);
  }
  const out: { pid: number; comm: string }[] = [];
  const todo = [root];
  for (let guard = 0; todo.length && guard < 10_000; guard += 1) {
    const pid = todo.pop()!;
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      todo.push(c.pid);
    }
  }
  return out;
}

export interface MemoryPeaks {
  /** Peak VmRSS of the process itself, MiB. */
  selfRssMiB: number;
  /** Peak of the summed VmRSS of all its descendants (one sample), MiB. Shared pages are counted once per process. */
  childrenRssMiB: number;
  /** Peak of the summed PSS of its descendants (shared pages split between sharers), MiB. */
  childrenPssMiB: number;
  /** Peak of self + descendants RSS in one sample, MiB. */
  totalRssMiB: number;
  /** Most descendants seen at once, and their names. */
  childCount: number;
  childNames: string[];
  samples: number;
}

/** Samples VmRSS of a process and its descendants every `everyMs` until stopped. */
export function sampleMemory(pid: number, everyMs = 500): { stop(): MemoryPeaks; peaks(): MemoryPeaks } {
  const peaks: MemoryPeaks = {
    selfRssMiB: 0,
    childrenRssMiB: 0,
    childrenPssMiB: 0,
    totalRssMiB: 0,
    childCount: 0,
    childNames: [],
    samples: 0,
  };
  const names = new Set<string>();
  const sample = () => {
    const self = readKb(`/proc/${pid}/status`, 'VmRSS');
    if (!self) return;
    let rss = 0;
    let pss = 0;
    const desc = descendantsOf(pid);
    for (const d of desc) {
      rss += readKb(`/proc/${d.pid}/status`, 'VmRSS');
      pss += readKb(`/proc/${d.pid}/smaps_rollup`, 'Pss');
      names.add(d.comm);
    }
    const mib = (kb: number) => Math.round((kb / 1024) * 10) / 10;
    peaks.selfRssMiB = Math.max(peaks.selfRssMiB, mib(self));
    peaks.childrenRssMiB = Math.max(peaks.childrenRssMiB, mib(rss));
    peaks.childrenPssMiB = Math.max(peaks.childrenPssMiB, mib(pss));
    peaks.totalRssMiB = Math.max(peaks.totalRssMiB, mib(self + rss));
    peaks.childCount = Math.max(peaks.childCount, desc.length);
    peaks.samples += 1;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  const snapshot = () => ({ ...peaks, childNames: [...names].sort() });
  return {
    peaks: snapshot,
    stop() {
      clearInterval(timer);
      sample();
      return snapshot();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU: how much of the machine went to processes outside the benchmark's own tree

function cpuJiffies(): { busy: number; total: number } {
  try {
    const first = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = first.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal (guest time is already in user)
    const idle = (first[3] ?? 0) + (first[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function processJiffies(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

export interface CpuShare {
  /** Share of the machine's CPU time (all cores) that was busy, %. */
  machineBusyPct: number;
  /** Share used by the benchmark (this process and all its descendants), %. */
  benchPct: number;
  /** Share used by everything else on the machine (other sessions' tests, services we do not own), %. */
  otherPct: number;
  /** 1-minute load average at the end. */
  loadAvg1: number;
}

/** Follows CPU use of this process tree against the whole machine, sampling every `everyMs`. */
export function watchCpu(everyMs = 1000): { stop(): CpuShare } {
  const root = process.pid;
  const last = new Map<number, number>();
  let tree = 0;
  const sampleTree = () => {
    for (const pid of [root, ...descendantsOf(root).map((d) => d.pid)]) {
      const j = processJiffies(pid);
      if (j === undefined) continue;
      const before = last.get(pid);
      // a process born after the watch started is counted from its first jiffy
      if (before !== undefined) tree += Math.max(0, j - before);
      else if (started) tree += j;
      last.set(pid, j);
    }
  };
  let started = false;
  const start = cpuJiffies();
  sampleTree();
  tree = 0;
  started = true;
  const timer = setInterval(sampleTree, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sampleTree();
      const end = cpuJiffies();
      const total = end.total - start.total || 1;
      const busy = end.busy - start.busy;
      const pct = (v: number) => Math.round((Math.max(0, v) / total) * 1000) / 10;
      return {
        machineBusyPct: pct(busy),
        benchPct: pct(Math.min(tree, busy)),
        otherPct: pct(busy - tree),
        loadAvg1: Math.round(os.loadavg()[0]! * 100) / 100,
      };
    },
  };
}

/** Waits until the whole machine is less than `maxBusyPct` busy over a 2-second window, for at most `timeoutMs`. */
export async function waitForIdle(timeoutMs: number, maxBusyPct: number): Promise<{ idle: boolean; busyPct: number; waitedMs: number }> {
  const start = Date.now();
  let busyPct = 100;
  for (let i = 0; i < 10_000; i += 1) {
    const a = cpuJiffies();
    await sleep(2000);
    const b = cpuJiffies();
    busyPct = Math.round(((b.busy - a.busy) / (b.total - a.total || 1)) * 1000) / 10;
    if (busyPct < maxBusyPct) return { idle: true, busyPct, waitedMs: Date.now() - start };
    if (Date.now() - start >= timeoutMs) break;
  }
  return { idle: false, busyPct, waitedMs: Date.now() - start };
}
