import { describe, expect, it } from 'vitest';
import {
  describeCrossing,
  describeRefusalAlert,
  dueCrossings,
  emptyMarks,
  refusalAlertDue,
  REFUSAL_ALERT_EVERY_MS,
} from '../../src/core/spendAlerts.js';
import { emptyState, type LedgerEntry, type SpendLimits, type SpendState } from '../../src/core/spendMath.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const limits: SpendLimits = { daily: 100, monthly: 1000, userDaily: 60 };
const spent = (day: number, month = day, at = NOW): SpendState => ({ ...emptyState(at), daySpent: day, monthSpent: month });
const entry: LedgerEntry = { id: 'e1', at: NOW, scope: 'g', userId: '42', kind: 'image', model: 'flux', estimate: 4, actual: 3.5, status: 'settled' };

describe('dueCrossings', () => {
  it('announces 80% once per window, then 100% once, and nothing below 80%', () => {
    let marks = emptyMarks();
    const below = dueCrossings(spent(79.9), limits, marks);
    expect(below.due).toEqual([]);
    const at80 = dueCrossings(spent(80), limits, below.marks);
    expect(at80.due).toEqual([{ limit: 'daily', level: 80, spent: 80, limitSpark: 100 }]);
    marks = at80.marks;
    expect(dueCrossings(spent(95), limits, marks).due).toEqual([]);
    const at100 = dueCrossings(spent(100.5), limits, marks);
    expect(at100.due).toEqual([{ limit: 'daily', level: 100, spent: 100.5, limitSpark: 100 }]);
    expect(dueCrossings(spent(120), limits, at100.marks).due).toEqual([]);
  });

  it('announces a jump straight past 100% as 100% only, and again the next day', () => {
    const first = dueCrossings(spent(150, 150), limits, emptyMarks());
    expect(first.due.map((d) => [d.limit, d.level])).toEqual([['daily', 100]]);
    expect(dueCrossings(spent(150, 150), limits, first.marks).due).toEqual([]);
    const tomorrow = dueCrossings(spent(90, 240, NOW + 24 * 3600_000), limits, first.marks);
    expect(tomorrow.due.map((d) => [d.limit, d.level])).toEqual([['daily', 80]]);
  });

  it('watches the monthly limit on its own, and ignores missing or zero limits', () => {
    expect(dueCrossings(spent(10, 850), limits, emptyMarks()).due).toEqual([{ limit: 'monthly', level: 80, spent: 850, limitSpark: 1000 }]);
    expect(dueCrossings(spent(500, 500), { daily: null, monthly: 0, userDaily: null }, emptyMarks()).due).toEqual([]);
  });
});

describe('refusalAlertDue', () => {
  it('allows one refusal alert per limit per hour', () => {
    const first = refusalAlertDue('daily', 100, emptyMarks(), NOW);
    expect(first.due).toBe(true);
    expect(refusalAlertDue('daily', 100, first.marks, NOW + REFUSAL_ALERT_EVERY_MS - 1).due).toBe(false);
    expect(refusalAlertDue('monthly', 1000, first.marks, NOW + 1).due).toBe(true);
    expect(refusalAlertDue('daily', 100, first.marks, NOW + REFUSAL_ALERT_EVERY_MS).due).toBe(true);
  });

  it('never alerts for a member’s own allowance or a limit turned off on purpose', () => {
    expect(refusalAlertDue('userDaily', 60, emptyMarks(), NOW).due).toBe(false);
    expect(refusalAlertDue('daily', 0, emptyMarks(), NOW).due).toBe(false);
  });
});

describe('alert lines', () => {
  it('say who, what and how much, and when the limit resets', () => {
    const line = describeCrossing({ limit: 'daily', level: 80, spent: 80, limitSpark: 100 }, entry, NOW);
    expect(line).toContain('80% of its daily Sogni limit**: 80 Spark of 100 Spark');
    expect(line).toContain('<@42> · image · `flux` · 3.5 Spark');
    expect(line).toContain(`<t:${Date.UTC(2026, 10, 27) / 1000}:R>`);
    const full = describeCrossing({ limit: 'monthly', level: 100, spent: 1001, limitSpark: 1000 }, entry, NOW);
    expect(full).toMatch(/used its monthly Sogni limit\*\*: 1,001 Spark of 1,000 Spark\. Paid requests are refused until it resets on the 1st/);
    const refused = describeRefusalAlert({ limit: 'daily', limitSpark: 100, spent: 99, needed: 4, resetsAt: 0 }, { userId: '7', kind: 'chat', model: 'qwen' }, NOW);
    expect(refused).toContain("refused by this server's daily Sogni limit**: 99 Spark of 100 Spark used");
    expect(refused).toContain('<@7> · chat · `qwen` · about 4 Spark');
  });
});

describe('alert windows and exact wording', () => {
  it('keeps a monthly announcement for the whole month, across days', () => {
    const first = dueCrossings(spent(10, 850), limits, emptyMarks());
    expect(first.due).toEqual([{ limit: 'monthly', level: 80, spent: 850, limitSpark: 1000 }]);
    const nextDay = NOW + 24 * 3600_000;
    expect(dueCrossings(spent(10, 860, nextDay), limits, first.marks).due).toEqual([]);
    const nextMonth = Date.UTC(2026, 11, 2, 12);
    expect(dueCrossings(spent(10, 860, nextMonth), limits, first.marks).due).toEqual([{ limit: 'monthly', level: 80, spent: 860, limitSpark: 1000 }]);
  });

  it('says a daily limit resets at midnight UTC, in full', () => {
    const tomorrow = Date.UTC(2026, 10, 27) / 1000;
    expect(describeCrossing({ limit: 'daily', level: 80, spent: 80, limitSpark: 100 }, entry, NOW)).toBe(
      `📊 **This server has used 80% of its daily Sogni limit**: 80 Spark of 100 Spark. It resets at 00:00 UTC (<t:${tomorrow}:R>).
-# Last request: <@42> · image · \`flux\` · 3.5 Spark`,
    );
  });

  it('names the request by its estimate when it has no actual cost, and leaves out a missing model', () => {
    const line = describeCrossing({ limit: 'daily', level: 100, spent: 100, limitSpark: 100 }, { ...entry, model: '', actual: null }, NOW);
    expect(line.split('\n')[1]).toBe('-# Last request: <@42> · image · 4 Spark');
  });

  it('writes a refusal alert for the monthly limit with the monthly reset, in full', () => {
    const firstOfNextMonth = Date.UTC(2026, 11, 1) / 1000;
    const text = describeRefusalAlert({ limit: 'monthly', limitSpark: 1000, spent: 998, needed: 4, resetsAt: 0 }, { userId: '7', kind: 'chat', model: 'qwen' }, NOW);
    expect(text).toBe(
      [
        `⛔ **A request was refused by this server's monthly Sogni limit**: 998 Spark of 1,000 Spark used. It resets on the 1st (<t:${firstOfNextMonth}:R>).`,
        '-# <@7> · chat · `qwen` · about 4 Spark',
        '-# Further refusals for this limit in the next hour are not posted.',
      ].join('\n'),
    );
  });
});
