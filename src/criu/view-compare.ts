/**
 * The round trip's equivalence check in place (sameTreeView): the two worlds compared BO by
 * BO without building the views of their KFD BOs, the rest through the views of
 * process-view.ts. Strict: "not alike" may still be views that show alike (the caller then
 * lists the differences of the built views); "alike" never hides a difference.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import { findContentGem } from '../ioctls/amdgpu/kernel/gem.js';
import { getObject } from '../world/objects.js';
import type { StateValue } from 'xstate';
import type { World } from '../world/types.js';
import { diffViews, mappedOn, sharingView, stateText, type ViewParts, viewParts } from './process-view.js';

/** Two states show alike (stateText). */
function sameState(a: StateValue, b: StateValue): boolean {
  return a === b || (typeof a !== 'string' && typeof b !== 'string' && stateText(a) === stateText(b));
}

/** Two page maps (GEM content) show alike: the same pages with the same values. */
function samePages(a: Record<number, number>, b: Record<number, number>): boolean {
  let n = 0;
  for (const k in a) {
    if (!Object.hasOwn(b, k) || a[k as unknown as number] !== b[k as unknown as number]) return false;
    n++;
  }
  for (const _k in b) n--;
  return n === 0;
}

/** sameBo's lists of mapped gpus, reused from BO to BO. */
const MAPPED_A: number[] = [];
const MAPPED_B: number[] = [];

/**
 * boView(wa, a, ua) and boView(wb, b, ub) show alike, compared field by field without
 * building either view. Strict: a false may still be views that show alike (the caller then
 * builds and compares the views), a true never hides a difference.
 */
function sameBo(wa: World, a: string, ua: (g: number) => number, wb: World, b: string, ub: (g: number) => number) {
  const ra = getObject<BoContext>(wa, a);
  const rb = getObject<BoContext>(wb, b);
  const x = ra.context;
  const y = rb.context;
  if (x.va !== y.va || x.size !== y.size || x.alloc_flags !== y.alloc_flags || x.user_addr !== y.user_addr)
    return false;
  if (!sameState(ra.value, rb.value)) return false;
  const ma = mappedOn(x, ua, MAPPED_A);
  const mb = mappedOn(y, ub, MAPPED_B);
  if (ma.length !== mb.length) return false;
  for (let i = 0; i < ma.length; i++) if (ma[i] !== mb[i]) return false;
  const ga = findContentGem(wa, x.gem);
  const gb = findContentGem(wb, y.gem);
  if (ga === undefined || gb === undefined) return ga === gb;
  return samePages(ga.content, gb.content);
}

/** Two alloc_idrs hold the same handles, and the BOs behind each handle show alike. */
function sameBos(
  a: ViewParts,
  wa: World,
  ia: Readonly<Record<number, string>>,
  b: ViewParts,
  wb: World,
  ib: Readonly<Record<number, string>>,
) {
  let n = 0;
  for (const h in ia) {
    const y = ib[h as unknown as number];
    if (y === undefined || !sameBo(wa, ia[h as unknown as number]!, a.u, wb, y, b.u)) return false;
    n++;
  }
  for (const _h in ib) n--;
  return n === 0;
}

/**
 * treeView(a, pids) and treeView(b, pids) show alike, found without building the views of
 * the KFD BOs: the views of the rest are compared as diffViews does, each pdd's BOs handle
 * by handle. Strict as sameBo: false sends the caller to diffViews of the whole views.
 */
export function sameTreeView(a: World, b: World, pids: readonly number[]): boolean {
  for (const pid of pids) {
    const pa = viewParts(a, pid, false);
    const pb = viewParts(b, pid, false);
    if (pa.clash || pb.clash || diffViews(pa.view, pb.view).length > 0) return false;
    // equal views have the same pdd keys
    for (const [key, ia] of pa.bos) if (!sameBos(pa, a, ia, pb, b, pb.bos.get(key)!)) return false;
  }
  return diffViews(sharingView(a, pids), sharingView(b, pids)).length === 0;
}
