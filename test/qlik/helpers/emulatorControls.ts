/**
 * Test helpers for the Qlik client suites. The emulator's controls come from its own control
 * client (plain fetch, apart from the client's undici pools).
 */
export { EmulatorControlClient as EmulatorControls } from '../../../local/qlik-emulator/controlClient.js';

/** Runs `fn` and returns how long it took (ms) with its outcome. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const start = performance.now();
  const [result] = await Promise.allSettled([fn()]);
  return { ms: performance.now() - start, result: result as PromiseSettledResult<T> };
}

/** The rejection of a promise that must reject. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, it succeeded');
}
