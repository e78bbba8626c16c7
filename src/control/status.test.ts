import { describe, expect, it } from 'vitest';
import { nextDeploymentStatus, nextFunctionStatus, phaseOf, type ReplicaView } from './status.js';

const r = (index: number, state: ReplicaView['state'], restarts = 0, message?: string): ReplicaView => ({ index, id: `d-${index}`, state, restarts, ...(message ? { message } : {}) });

describe('phaseOf', () => {
  it.each([
    ['all ready', 2, [r(0, 'ready'), r(1, 'ready')], undefined, 'Ready'],
    ['some ready', 2, [r(0, 'ready'), r(1, 'starting')], undefined, 'Degraded'],
    ['none ready, starting', 2, [r(0, 'starting'), r(1, 'pending')], undefined, 'Provisioning'],
    ['none ready, one fresh failure', 1, [r(0, 'failed', 1)], undefined, 'Provisioning'],
    ['crash loop', 1, [r(0, 'failed', 3)], undefined, 'Failed'],
    ['bad command', 1, [r(0, 'failed', 0, "runtime 'trtllm' needs a command")], undefined, 'Failed'],
    ['blocked', 1, [], 'Cluster x not found', 'Pending'],
    ['scaled to zero', 0, [], undefined, 'Ready'],
  ] as const)('%s → %s', (_name, desired, replicas, blocked, phase) => {
    expect(phaseOf(desired, replicas, blocked)).toBe(phase);
  });
});

describe('nextDeploymentStatus', () => {
  it('records phase changes and restarts as events, and keeps condition times while unchanged', () => {
    const s1 = nextDeploymentStatus({ prev: undefined, desired: 1, replicas: [r(0, 'starting')], generation: 1, servedName: 'm', now: 't1' });
    expect(s1).toMatchObject({ phase: 'Provisioning', readyReplicas: 0, desiredReplicas: 1, servedName: 'm', events: [{ reason: 'PhaseProvisioning' }] });
    const s2 = nextDeploymentStatus({ prev: s1, desired: 1, replicas: [r(0, 'ready')], generation: 1, servedName: 'm', now: 't2' });
    expect(s2.phase).toBe('Ready');
    expect(s2.events.at(-1)).toMatchObject({ reason: 'PhaseReady', message: 'Provisioning → Ready' });
    expect(s2.conditions.find((c) => c.type === 'Available')).toMatchObject({ status: 'True', lastTransitionTime: 't2' });
    const s3 = nextDeploymentStatus({ prev: s2, desired: 1, replicas: [r(0, 'ready', 1)], generation: 1, servedName: 'm', now: 't3' });
    expect(s3.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'ReplicaRestarted' });
    expect(s3.conditions.find((c) => c.type === 'Available')?.lastTransitionTime).toBe('t2');
  });

  it('keeps at most 20 events', () => {
    let s = nextDeploymentStatus({ prev: undefined, desired: 1, replicas: [], generation: 1, servedName: undefined, now: 't' });
    for (let i = 0; i < 30; i++) s = nextDeploymentStatus({ prev: s, desired: 1, replicas: [r(0, i % 2 ? 'ready' : 'starting', i)], generation: 1, servedName: undefined, now: `t${i}` });
    expect(s.events.length).toBe(20);
  });
});

describe('nextFunctionStatus', () => {
  it('sums ready replicas over deployments', () => {
    const ready = nextDeploymentStatus({ prev: undefined, desired: 1, replicas: [r(0, 'ready')], generation: 1, servedName: 'm', now: 't' });
    const s = nextFunctionStatus({ prev: undefined, deployments: [{ name: 'a', cluster: 'c1', status: ready }, { name: 'b', cluster: 'c2' }], generation: 2, now: 't' });
    expect(s).toMatchObject({ readyReplicas: 1, observedGeneration: 2, deployments: [{ name: 'a', phase: 'Ready', readyReplicas: 1 }, { name: 'b', phase: 'Pending', readyReplicas: 0 }] });
    expect(s.conditions[0]?.message).toBe('1 ready replicas on 1/2 clusters');
  });
});
