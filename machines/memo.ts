/**
 * Memoising an event's algorithm per (context, event object).
 *
 * The TTM, i915 and Xe machines run one algorithm per event (a backup, a restore, an
 * eviction) whose result both the guards and the actions of the same transition read:
 * XState evaluates the guards, then the actions, with the same context and event objects,
 * so the result is computed once and looked up after. A context changes in place when its
 * object takes a transition (src/world/compiled.ts `advance`), but every send gets an event
 * object of its own (src/ioctls/internal-objects.ts `sendWithFaults`), so a (context, event)
 * pair names one transition; weak maps let both go.
 */
export function memoPerContextEvent<C extends object, E extends object, R>(
  step: (context: C, event: E) => R,
): (context: C, event: E) => R {
  const memo = new WeakMap<C, WeakMap<E, R>>();
  return (context, event) => {
    let byEvent = memo.get(context);
    if (byEvent?.has(event)) return byEvent.get(event)!;
    const r = step(context, event);
    if (!byEvent) {
      byEvent = new WeakMap();
      memo.set(context, byEvent);
    }
    byEvent.set(event, r);
    return r;
  };
}
