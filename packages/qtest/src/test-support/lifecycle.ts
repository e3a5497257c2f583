/**
 * One fresh micro:bit per test: started before it, and quit after it with libqtest's check that
 * SIGTERM ends the emulator with exit status 0.
 */
import { afterEach, beforeEach } from 'vitest';
import type { QTestSession } from '../session.js';
import { startMicrobit } from './nrf51.js';

/** Returns a getter for the current test's session. */
export function microbitPerTest(options: { serial?: boolean; args?: string[] } = {}): () => QTestSession {
  let session: QTestSession | null = null;
  beforeEach(async () => {
    session = await startMicrobit(options);
  }, 20_000);
  afterEach(async () => {
    const s = session;
    session = null;
    await s?.quit();
  }, 40_000);
  return () => {
    if (session === null) throw new Error('no micro:bit session (did it fail to start?)');
    return session;
  };
}
