import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelPacer, type Pacer, type Urgency } from '../../src/core/editPacer.js';
import { LatestEditor } from '../../src/core/latestEditor.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A send that takes `latencyMs`; records what it sent and the most sends in flight at once; `failNext` fails sends. */
function recorder(latencyMs = 100) {
  const sent: unknown[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failures = 0;
  const send = async (payload: unknown) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, latencyMs));
    inFlight -= 1;
    if (failures > 0) {
      failures -= 1;
      throw new Error('Discord said no');
    }
    sent.push(payload);
  };
  return { sent, send, maxInFlight: () => maxInFlight, failNext: (n: number) => (failures = n) };
}

/** A pacer that grants each slot when the test says so, and records what became of every slot. */
function manualPacer() {
  const log: string[] = [];
  const waiting: (() => void)[] = [];
  let n = 0;
  const pacer: Pacer = {
    acquire: (urgency: Urgency, route?: { method: string; path: string }) => {
      const id = ++n;
      log.push(`acquire ${id} ${urgency}${route ? ` ${route.method} ${route.path}` : ''}`);
      return new Promise((resolve) => {
        waiting.push(() =>
          resolve({
            done: () => log.push(`done ${id}`),
            cancel: () => log.push(`cancel ${id}`),
          }),
        );
      });
    },
    tryAcquire: () => true,
  };
  const grant = async () => {
    const next = waiting.shift();
    if (!next) throw new Error('nobody is waiting for a slot');
    next();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { pacer, log, grant, waiting: () => waiting.length };
}

const channelPacer = () => new ChannelPacer({ limit: 5, windowMs: 5000, marginMs: 250 });
const byValue = { key: (p: string) => p, onError: () => 'continue' as const };

describe('LatestEditor rules', () => {
  it('never has two sends in flight, even when a send outlasts the spacing', async () => {
    const r = recorder(2500);
    const editor = new LatestEditor(r.send, channelPacer(), byValue);
    editor.show('1');
    await vi.advanceTimersByTimeAsync(100);
    editor.show('2');
    await vi.advanceTimersByTimeAsync(1500);
    editor.show('3');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.maxInFlight()).toBe(1);
    expect(r.sent).toEqual(['1', '3']);
  });

  it('a state recorded just as the loop ends still goes out', async () => {
    const r = recorder();
    const editor = new LatestEditor(r.send, channelPacer(), byValue);
    editor.show('a');
    await vi.advanceTimersByTimeAsync(2000);
    expect(r.sent).toEqual(['a']);
    // The first show ends its loop at once (already on screen); the second lands before that loop is gone.
    editor.show('a');
    editor.show('b');
    await vi.advanceTimersByTimeAsync(3000);
    expect(r.sent).toEqual(['a', 'b']);
  });

  it('a state already on screen takes no slot', async () => {
    const m = manualPacer();
    const r = recorder(10);
    const editor = new LatestEditor(r.send, m.pacer, byValue);
    editor.show('a');
    await m.grant();
    await vi.advanceTimersByTimeAsync(10);
    expect(r.sent).toEqual(['a']);
    editor.show('a');
    await vi.advanceTimersByTimeAsync(100);
    expect(m.log).toEqual(['acquire 1 paced', 'done 1']);
    expect(m.waiting()).toBe(0);
  });

  it('when the newest state at its slot is what is on screen, nothing is sent and the slot is given back', async () => {
    const m = manualPacer();
    const r = recorder(10);
    const editor = new LatestEditor(r.send, m.pacer, byValue);
    editor.show('a');
    await m.grant();
    await vi.advanceTimersByTimeAsync(10);
    editor.show('b');
    editor.show('a');
    await m.grant();
    await vi.advanceTimersByTimeAsync(100);
    expect(r.sent).toEqual(['a']);
    expect(m.log).toEqual(['acquire 1 paced', 'done 1', 'acquire 2 paced', 'cancel 2']);
  });

  it('every slot used for a send is handed back done, whether the send worked or failed', async () => {
    const m = manualPacer();
    const r = recorder(10);
    const editor = new LatestEditor(r.send, m.pacer, byValue);
    r.failNext(1);
    editor.show('a');
    await m.grant();
    await vi.advanceTimersByTimeAsync(10);
    expect(m.log).toEqual(['acquire 1 paced', 'done 1']);
    expect(r.sent).toEqual([]);
  });

  it('a failed send the caller says to continue past leaves the editor open, and the next state goes out', async () => {
    const r = recorder();
    const errors: unknown[] = [];
    const editor = new LatestEditor(r.send, channelPacer(), {
      key: (p: string) => p,
      onError: (err) => {
        errors.push(err);
        return 'continue';
      },
    });
    r.failNext(1);
    editor.show('1');
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toHaveLength(1);
    expect(editor.open).toBe(true);
    editor.show('2');
    await vi.advanceTimersByTimeAsync(3000);
    expect(r.sent).toEqual(['2']);
  });

  it('a state that failed to send is sent again when shown again (it never reached the screen)', async () => {
    const r = recorder();
    const editor = new LatestEditor(r.send, channelPacer(), byValue);
    r.failNext(1);
    editor.show('1');
    await vi.advanceTimersByTimeAsync(1000);
    editor.show('1');
    await vi.advanceTimersByTimeAsync(3000);
    expect(r.sent).toEqual(['1']);
  });

  it('closed means closed: open turns false and later states are never sent', async () => {
    const r = recorder();
    const editor = new LatestEditor(r.send, channelPacer(), byValue);
    expect(editor.open).toBe(true);
    await editor.close();
    expect(editor.open).toBe(false);
    editor.show('late');
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.sent).toEqual([]);
  });

  it('closing while waiting for a slot sends nothing and gives the slot back', async () => {
    const m = manualPacer();
    const r = recorder(10);
    const editor = new LatestEditor(r.send, m.pacer, byValue);
    editor.show('a');
    await m.grant();
    await vi.advanceTimersByTimeAsync(10);
    editor.show('b');
    const closing = editor.close();
    await m.grant();
    await closing;
    expect(r.sent).toEqual(['a']);
    expect(m.log).toEqual(['acquire 1 paced', 'done 1', 'acquire 2 paced', 'cancel 2']);
  });

  it('a state shown after close is never sent, even when a slot was already on its way', async () => {
    const m = manualPacer();
    const r = recorder(10);
    const editor = new LatestEditor(r.send, m.pacer, byValue);
    editor.show('a');
    await m.grant();
    await vi.advanceTimersByTimeAsync(10);
    editor.show('b');
    const closing = editor.close();
    editor.show('late');
    await m.grant();
    await closing;
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.sent).toEqual(['a']);
    expect(m.log.at(-1)).toBe('cancel 2');
  });

  it('a slot the editor gave back does not delay the next progress edit in the channel', async () => {
    const r = recorder(10);
    const pacer = channelPacer();
    const editor = new LatestEditor(r.send, pacer, byValue);
    editor.show('a');
    await vi.advanceTimersByTimeAsync(100);
    editor.show('b');
    await vi.advanceTimersByTimeAsync(100);
    const closing = editor.close();
    await vi.advanceTimersByTimeAsync(pacer.spacingMs);
    await closing;
    const start = Date.now();
    let grantedAt = -1;
    void pacer.acquire('paced').then(() => (grantedAt = Date.now()));
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.sent).toEqual(['a']);
    expect(grantedAt).toBe(start);
  });

  it("the channel's window counts the editor's send from when it ended, not from when it left", async () => {
    const r = recorder(3000);
    const pacer = channelPacer();
    const editor = new LatestEditor(r.send, pacer, byValue);
    const t0 = Date.now();
    editor.show('a');
    await vi.advanceTimersByTimeAsync(3000);
    expect(r.sent).toEqual(['a']);
    const granted: number[] = [];
    for (let i = 0; i < 5; i++) void pacer.acquire('urgent').then(() => granted.push(Date.now() - t0));
    await vi.advanceTimersByTimeAsync(10_000);
    // Four fit beside the editor's send; the fifth waits until that send is 5 s old, counted from its end (3 s).
    expect(granted).toEqual([3000, 3000, 3000, 3000, 8000]);
  });
});

describe('where its sends are counted', () => {
  it('names its REST call to the pacer, so an interaction status is counted on its webhook, not the channel', async () => {
    const m = manualPacer();
    const r = recorder(10);
    const route = { method: 'PATCH', path: '/webhooks/1/tok/messages/@original' };
    const editor = new LatestEditor<string>(r.send, m.pacer, { key: (p) => p, onError: () => 'continue', route });
    editor.show('25%');
    await m.grant();
    await vi.advanceTimersByTimeAsync(10);
    expect(m.log).toEqual(['acquire 1 paced PATCH /webhooks/1/tok/messages/@original', 'done 1']);
    expect(r.sent).toEqual(['25%']);
  });
});
