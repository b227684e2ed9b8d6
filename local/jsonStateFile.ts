import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A local server's state mirrored to one JSON file, for the servers of the local cloud (the Qlik
 * emulator, the Secrets Manager endpoint).
 *
 * Saves are coalesced (a burst of changes costs one or two writes) and atomic: the file is written
 * beside the target and renamed over it, so a crash never leaves half a file.
 */
export class JsonStateFile<T> {
  readonly #path: string;
  readonly #snapshot: () => T;
  readonly #mode: number | undefined;
  #saving: Promise<void> | undefined;
  #dirty = false;

  /**
   * @param snapshot - the whole state to write, taken when a save starts.
   * @param mode - file permissions (e.g. `0o600` for a file holding secrets).
   */
  public constructor(path: string, snapshot: () => T, mode?: number) {
    this.#path = path;
    this.#snapshot = snapshot;
    this.#mode = mode;
  }

  /** The saved state, `undefined` when the file does not exist; `validate` checks its shape. */
  public static async read<T>(path: string, validate: (value: unknown) => value is T, expected: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${path} is not JSON (expected ${expected})`);
    }
    if (!validate(value)) throw new Error(`${path} is not ${expected}`);
    return value;
  }

  /** Call after every change; the state is written soon, once however many changes come. */
  public changed(): void {
    this.#dirty = true;
    this.#saving ??= this.#saveWhileDirty();
  }

  /** Resolves once every change made so far is on disk. */
  public async flush(): Promise<void> {
    while (this.#saving) await this.#saving;
  }

  async #saveWhileDirty(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        await mkdir(dirname(this.#path), { recursive: true });
        const temporary = `${this.#path}.${process.pid}.tmp`;
        await writeFile(temporary, `${JSON.stringify(this.#snapshot(), null, 2)}\n`, this.#mode === undefined ? {} : { mode: this.#mode });
        // writeFile's mode applies only to a new file; a leftover temporary keeps its own.
        if (this.#mode !== undefined) await chmod(temporary, this.#mode);
        await rename(temporary, this.#path);
      }
    } finally {
      this.#saving = undefined;
    }
  }
}
