/** One accepted write, as `GET /__emulator/write-log` shows it. */
export interface WriteLogEntry {
  seq: number;
  time: string;
  method: string;
  path: string;
  id: string;
  status: number;
  body: unknown;
  user: string;
}

/**
 * Every write the API accepted, in order: the ground truth for "how many PATCHes did this cost"
 * and "was anything written" in tests and benchmarks.
 */
export class WriteLog {
  #entries: WriteLogEntry[] = [];
  #seq = 0;

  public record(entry: Omit<WriteLogEntry, 'seq' | 'time'>): void {
    this.#seq += 1;
    this.#entries.push({ seq: this.#seq, time: new Date().toISOString(), ...entry });
  }

  public get entries(): readonly WriteLogEntry[] {
    return this.#entries;
  }

  public clear(): void {
    this.#entries = [];
  }
}
