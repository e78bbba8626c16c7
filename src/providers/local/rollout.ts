/**
 * Deployment-level convergence, pure: from what runs per replica index and the target, the actions
 * that move one step closer. Called again after every change, so each call plans one step.
 *
 * - Missing indexes are started; indexes at or above `replicas` are retired (drained).
 * - A ready replica with an outdated specHash is replaced with a surge of one per deployment:
 *   its replacement starts beside it, and is promoted (the old one drained) once ready, so a
 *   rolling change never lowers the number of ready replicas.
 * - An outdated replica that is not serving (pending/starting/failed) is replaced in place.
 * - Adopted replicas with the current specHash are attached (they learn the target and may restart).
 */
import type { ReplicaState } from '../types.js';

/** What the planner needs to know about one process. */
export interface RunnerView {
  readonly specHash: string;
  readonly state: ReplicaState;
  /** Knows its target (false for adopted replicas before the first apply). */
  readonly attached: boolean;
}

/** What runs for one replica index: the serving process and, during a rolling change, its replacement. */
export interface SlotView {
  readonly index: number;
  readonly current?: RunnerView;
  readonly surge?: RunnerView;
}

/** One step. `promote` retires the current process (if any) and makes the surge current. */
export type RolloutAction =
  | { readonly kind: 'start'; readonly index: number; readonly role: 'current' | 'surge' }
  | { readonly kind: 'retire'; readonly index: number; readonly role: 'current' | 'surge' }
  | { readonly kind: 'promote'; readonly index: number }
  | { readonly kind: 'attach'; readonly index: number; readonly role: 'current' | 'surge' };

/** Plan the next actions for `slots` (any order) towards `desired`. */
export function planRollout(slots: readonly SlotView[], desired: { readonly replicas: number; readonly specHash: string }): RolloutAction[] {
  const { replicas, specHash } = desired;
  const byIndex = new Map(slots.map((s) => [s.index, s]));
  const indexes = [...new Set([...byIndex.keys(), ...Array.from({ length: replicas }, (_, i) => i)])].sort((a, b) => a - b);
  const actions: RolloutAction[] = [];
  const isRolling = (s: SlotView): boolean => s.current?.state === 'ready' && s.current.specHash !== specHash;
  // Surges that are already under way (started, matching, not ready yet) use up the budget of one.
  let surges = slots.filter((s) => s.index < replicas && isRolling(s) && s.surge?.specHash === specHash && s.surge.state !== 'ready').length;

  for (const index of indexes) {
    const slot = byIndex.get(index) ?? { index };
    const { current } = slot;
    let surge = slot.surge;
    if (index >= replicas) {
      if (current) actions.push({ kind: 'retire', index, role: 'current' });
      if (surge) actions.push({ kind: 'retire', index, role: 'surge' });
      continue;
    }
    if (surge && surge.specHash !== specHash) {
      actions.push({ kind: 'retire', index, role: 'surge' });
      surge = undefined;
    }
    if (!current) {
      actions.push(surge ? { kind: 'promote', index } : { kind: 'start', index, role: 'current' });
      if (surge && !surge.attached) actions.push({ kind: 'attach', index, role: 'current' });
    } else if (current.specHash === specHash) {
      if (surge) actions.push({ kind: 'retire', index, role: 'surge' });
      if (!current.attached) actions.push({ kind: 'attach', index, role: 'current' });
    } else if (current.state !== 'ready') {
      if (surge) {
        actions.push({ kind: 'promote', index });
        if (!surge.attached) actions.push({ kind: 'attach', index, role: 'current' });
      } else {
        actions.push({ kind: 'retire', index, role: 'current' }, { kind: 'start', index, role: 'current' });
      }
    } else if (surge) {
      if (surge.state === 'ready') actions.push({ kind: 'promote', index });
      if (!surge.attached) actions.push({ kind: 'attach', index, role: surge.state === 'ready' ? 'current' : 'surge' });
    } else if (surges === 0) {
      actions.push({ kind: 'start', index, role: 'surge' });
      surges++;
    }
  }
  return actions;
}
