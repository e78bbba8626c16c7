import { describe, expect, it } from 'vitest';
import type { ReplicaState } from '../types.js';
import { planRollout, type RunnerView, type SlotView } from './rollout.js';

const r = (specHash: string, state: ReplicaState = 'ready', attached = true): RunnerView => ({ specHash, state, attached });

describe('planRollout', () => {
  /** The target's specHash is 'v2' throughout. */
  const cases: { name: string; slots: SlotView[]; replicas: number; actions: ReturnType<typeof planRollout> }[] = [
    {
      name: 'empty deployment: start every index',
      slots: [],
      replicas: 2,
      actions: [
        { kind: 'start', index: 0, role: 'current' },
        { kind: 'start', index: 1, role: 'current' },
      ],
    },
    { name: 'converged: nothing to do', slots: [{ index: 0, current: r('v2') }, { index: 1, current: r('v2', 'starting') }], replicas: 2, actions: [] },
    {
      name: 'scale down retires the highest indexes',
      slots: [{ index: 0, current: r('v2') }, { index: 1, current: r('v2') }, { index: 2, current: r('v2') }],
      replicas: 1,
      actions: [
        { kind: 'retire', index: 1, role: 'current' },
        { kind: 'retire', index: 2, role: 'current' },
      ],
    },
    {
      name: 'spec change on ready replicas: one surge at a time, lowest index first',
      slots: [{ index: 0, current: r('v1') }, { index: 1, current: r('v1') }],
      replicas: 2,
      actions: [{ kind: 'start', index: 0, role: 'surge' }],
    },
    {
      name: 'a surge that is not ready yet holds the budget',
      slots: [{ index: 0, current: r('v1'), surge: r('v2', 'starting') }, { index: 1, current: r('v1') }],
      replicas: 2,
      actions: [],
    },
    {
      name: 'a ready surge is promoted, and the next index gets its surge',
      slots: [{ index: 0, current: r('v1'), surge: r('v2') }, { index: 1, current: r('v1') }],
      replicas: 2,
      actions: [{ kind: 'promote', index: 0 }, { kind: 'start', index: 1, role: 'surge' }],
    },
    {
      name: 'an outdated replica that is not serving is replaced in place',
      slots: [{ index: 0, current: r('v1', 'failed') }, { index: 1, current: r('v1', 'starting') }],
      replicas: 2,
      actions: [
        { kind: 'retire', index: 0, role: 'current' },
        { kind: 'start', index: 0, role: 'current' },
        { kind: 'retire', index: 1, role: 'current' },
        { kind: 'start', index: 1, role: 'current' },
      ],
    },
    {
      name: 'a surge for an older target is retired and a new one started',
      slots: [{ index: 0, current: r('v1'), surge: r('v0', 'starting') }],
      replicas: 1,
      actions: [{ kind: 'retire', index: 0, role: 'surge' }, { kind: 'start', index: 0, role: 'surge' }],
    },
    {
      name: 'target reverted: the surge is retired',
      slots: [{ index: 0, current: r('v2'), surge: r('v1', 'starting') }],
      replicas: 1,
      actions: [{ kind: 'retire', index: 0, role: 'surge' }],
    },
    {
      name: 'adopted replicas with the current spec are attached',
      slots: [{ index: 0, current: r('v2', 'ready', false) }, { index: 1, current: r('v2', 'failed', false) }],
      replicas: 2,
      actions: [
        { kind: 'attach', index: 0, role: 'current' },
        { kind: 'attach', index: 1, role: 'current' },
      ],
    },
    {
      name: 'scale down also retires surges',
      slots: [{ index: 0, current: r('v1'), surge: r('v2', 'starting') }, { index: 1, current: r('v2') }],
      replicas: 0,
      actions: [
        { kind: 'retire', index: 0, role: 'current' },
        { kind: 'retire', index: 0, role: 'surge' },
        { kind: 'retire', index: 1, role: 'current' },
      ],
    },
  ];
  it.each(cases)('$name', ({ slots, replicas, actions }) => {
    expect(planRollout(slots, { replicas, specHash: 'v2' })).toEqual(actions);
  });

  it('never leaves fewer ready replicas than before during a rolling change (simulated)', () => {
    // Drive a 3-replica roll: each started surge becomes ready on the next step.
    let slots: { index: number; current?: RunnerView; surge?: RunnerView }[] = [0, 1, 2].map((index) => ({ index, current: r('v1') }));
    for (let step = 0; step < 20; step++) {
      const ready = slots.filter((s) => s.current?.state === 'ready').length;
      expect(ready).toBeGreaterThanOrEqual(3);
      const actions = planRollout(slots, { replicas: 3, specHash: 'v2' });
      if (actions.length === 0 && slots.every((s) => s.current?.specHash === 'v2' && !s.surge)) break;
      slots = slots.map((s) => (s.surge ? { ...s, surge: { ...s.surge, state: 'ready' } } : s));
      for (const a of actions) {
        const s = slots[a.index]!;
        if (a.kind === 'start') s[a.role] = r('v2', 'starting');
        if (a.kind === 'promote') slots[a.index] = { index: a.index, current: s.surge! };
      }
      expect(slots.filter((s) => s.surge).length).toBeLessThanOrEqual(1);
    }
    expect(slots.map((s) => s.current?.specHash)).toEqual(['v2', 'v2', 'v2']);
  });
});
