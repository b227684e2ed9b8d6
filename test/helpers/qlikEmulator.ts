/**
 * The Qlik emulator (`local/qlik-emulator`) on a free loopback port, with its `/__emulator/*`
 * test controls reached through the emulator's own control client (plain fetch, apart from the
 * product's Qlik client and its pools).
 */
import { EmulatorControlClient } from '../../local/qlik-emulator/controlClient.js';
import { startQlikEmulator, type QlikEmulatorOptions } from '../../local/qlik-emulator/server.js';

export interface TestQlikEmulator {
  url: string;
  apiKey: string;
  control: EmulatorControlClient;
  close(): Promise<void>;
}

/** Starts the emulator on port 0 with a fixed test API key (unless given one). */
export async function startTestQlikEmulator(options: Partial<QlikEmulatorOptions> = {}): Promise<TestQlikEmulator> {
  const apiKey = options.apiKey ?? 'test-api-key-0123456789';
  const emulator = await startQlikEmulator({ ...options, apiKey, port: 0 });
  return { url: emulator.url, apiKey, control: new EmulatorControlClient(emulator.url), close: () => emulator.close() };
}
