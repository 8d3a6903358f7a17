// Process liveness from /proc: the only module of eventfs that reads /proc.
//
// A queue's creator is identified by its tgid AND its start time (field 22 of /proc/PID/stat, in
// clock ticks since boot): pids are reused, so a pid alone never proves the creator is alive.
// FUSE reports the caller's THREAD id; tgidOf() maps it to the process (Tgid: in /proc/TID/status;
// /proc/TID exists for any thread id even though readdir of /proc lists only processes).
//
// Every function takes an optional ProcReader so tests can simulate pid reuse, exits and zombies.
// The API is synchronous on purpose: reads of /proc are a few microseconds, never touch the FUSE
// mount (no deadlock, PITFALLS 7) and use no libuv pool thread; and an op handler can resolve its
// caller synchronously, while the calling thread is certainly alive (blocked in its syscall).
import { readFileSync } from 'node:fs'

/** Identity of a process that cannot be confused with a later process reusing its pid. */
export interface ProcessIdentity {
  /** Process id (tgid). */
  pid: number
  /** Start time of the process, clock ticks since boot (/proc/PID/stat field 22). */
  start: number
}

/** Reads /proc/<pid>/<file>; returns null when the entry does not exist (process or thread gone). */
export type ProcReader = (pid: number, file: 'stat' | 'status') => string | null

/** The real reader over `root` (default /proc). */
export function procfsReader (root = '/proc'): ProcReader {
  return (pid, file) => {
    try {
      return readFileSync(`${root}/${pid}/${file}`, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // ESRCH: the process exited between open and read.
      if (code === 'ENOENT' || code === 'ESRCH') return null
      throw err
    }
  }
}

const procfs = procfsReader()

function validPid (pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 0
}

/** The process (tgid) of thread `tid`, or null if it does not exist (or tid is 0: a kernel-internal request). */
export function tgidOf (tid: number, reader: ProcReader = procfs): number | null {
  if (!validPid(tid)) return null
  const status = reader(tid, 'status')
  if (status === null) return null
  const m = /^Tgid:\s*(\d+)\s*$/m.exec(status)
  if (!m) throw new Error(`/proc/${tid}/status: no Tgid line`)
  return Number(m[1])
}

/** State (field 3) and start time (field 22) of /proc/PID/stat, or null if the process does not exist. */
export function readStat (pid: number, reader: ProcReader = procfs): { state: string, start: number } | null {
  if (!validPid(pid)) return null
  const stat = reader(pid, 'stat')
  if (stat === null) return null
  return parseStat(pid, stat)
}

/**
 * Parses /proc/PID/stat. comm (field 2) is in parentheses and may itself contain spaces and
 * parentheses, so fields are counted from the LAST ')'.
 */
export function parseStat (pid: number, stat: string): { state: string, start: number } {
  const close = stat.lastIndexOf(')')
  if (close < 0) throw new Error(`/proc/${pid}/stat: malformed (no ')')`)
  // After ") " come fields 3 (state), 4 (ppid), ... so field N is at index N - 3.
  const fields = stat.slice(close + 1).trim().split(/\s+/)
  const state = fields[0]
  const start = fields[22 - 3]
  if (state === undefined || start === undefined || !/^\d+$/.test(start)) {
    throw new Error(`/proc/${pid}/stat: malformed (no starttime)`)
  }
  return { state, start: Number(start) }
}

/** Start time (clock ticks since boot) of process `pid`, or null if it does not exist. */
export function startTimeOf (pid: number, reader: ProcReader = procfs): number | null {
  return readStat(pid, reader)?.start ?? null
}

/**
 * True iff process `pid` exists, is not a zombie (state Z, or X: dead), and started at `start`.
 * A different start time means the pid was reused by another process: the original is dead.
 */
export function isAlive (id: ProcessIdentity, reader: ProcReader = procfs): boolean {
  const st = readStat(id.pid, reader)
  if (st === null) return false
  if (st.state === 'Z' || st.state === 'X' || st.state === 'x') return false
  return st.start === id.start
}

/**
 * Identity of the process owning thread `tid` (as reported by fuse.context().pid), or null if the
 * thread or its process is already gone, or tid is 0 (kernel-internal requests such as release).
 * Call it synchronously at the start of the op handler: the calling thread is then blocked in its
 * syscall, so it exists (unless it was killed meanwhile: then null).
 */
export function callerIdentity (tid: number, reader: ProcReader = procfs): ProcessIdentity | null {
  const pid = tgidOf(tid, reader)
  if (pid === null) return null
  const start = startTimeOf(pid, reader)
  if (start === null) return null
  return { pid, start }
}
