/**
 * A clock that can run faster than real time.
 *
 * The rate limiter reads time from here so that `--time-scale 60` turns Qlik's one-minute windows
 * into one real second: benchmarks reach the limits in seconds instead of minutes.
 * Changing the scale rebases the clock so emulated time never jumps backwards.
 */
export class ScaledClock {
  #scale: number;
  #realAnchor = Date.now();
  #emulatedAnchor = this.#realAnchor;

  public constructor(scale = 1) {
    this.#scale = ScaledClock.#checkScale(scale);
  }

  /** Emulated milliseconds since the epoch. */
  public now(): number {
    return this.#emulatedAnchor + (Date.now() - this.#realAnchor) * this.#scale;
  }

  public get scale(): number {
    return this.#scale;
  }

  public set scale(scale: number) {
    const now = this.now();
    this.#realAnchor = Date.now();
    this.#emulatedAnchor = now;
    this.#scale = ScaledClock.#checkScale(scale);
  }

  /** Converts an emulated duration into the real one a client has to wait. */
  public toRealMs(emulatedMs: number): number {
    return emulatedMs / this.#scale;
  }

  static #checkScale(scale: number): number {
    if (!Number.isFinite(scale) || scale <= 0) {
      throw new RangeError(`time scale must be a positive number, got ${scale}`);
    }
    return scale;
  }
}
