// Drives the real bundled adapter (dist/debug-adapter.js, built by `npm run build`) over DAP,
// as VS Code does: the handshake works, and launching says plainly that the machine is not
// there yet instead of pretending to run.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DapClient } from './dap-client';

const ADAPTER = resolve(__dirname, '../../dist/debug-adapter.js');

describe('debug adapter over DAP', () => {
  let client: DapClient | undefined;

  beforeAll(() => {
    expect(existsSync(ADAPTER), `${ADAPTER} is missing: run \`npm run build\` first`).toBe(true);
  });

  afterEach(() => client?.kill());

  it('answers initialize with a capabilities body', async () => {
    client = new DapClient(ADAPTER);
    const r = await client.request('initialize', { adapterID: 'vmx-lab', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    expect(r.success).toBe(true);
    expect(r.command).toBe('initialize');
    expect(r.body).toBeTypeOf('object');
    // No capability is advertised that the adapter cannot honour yet.
    expect(Object.values(r.body as object).filter((v) => v === true)).toEqual([]);
  });

  it('refuses launch and attach with a message for the user', async () => {
    client = new DapClient(ADAPTER);
    await client.request('initialize', { adapterID: 'vmx-lab' });
    for (const command of ['launch', 'attach']) {
      const r = await client.request(command, { program: 'guests/hello.S' });
      expect(r.success).toBe(false);
      expect(r.message).toMatch(/machine is not built yet/);
      expect(r.message).toMatch(/issue 3/);
      const error = (r.body as { error?: { showUser?: boolean; format?: string } }).error;
      expect(error?.showUser).toBe(true);
      expect(error?.format).toBe(r.message);
    }
  });

  it('disconnects cleanly and exits', async () => {
    client = new DapClient(ADAPTER);
    await client.request('initialize', { adapterID: 'vmx-lab' });
    const r = await client.request('disconnect', {});
    expect(r.success).toBe(true);
    expect(await client.exited()).toBe(0);
  });
});
