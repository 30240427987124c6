import type { NotSavedAction, SnapVm } from './plan';

/**
 * How SnapImagesFromVMs prints its plan on either route: one line an action, the verb in a column of
 * its own so a plan reads down its verbs. The kinds both routes plan alike are worded here, once, so
 * a VM skipped, ignored or resumed reads the same on both; each route words what is its own.
 */

/** A plan line: `  verb    text`, the verb padded to the column. */
export function planLine(verb: string, text: string): string {
  return `  ${verb.padEnd(7)} ${text}`;
}

/** How many actions of a kind the plan holds, for its first line. */
export function kindCounter<K extends string>(actions: readonly { kind: K }[]): (kind: K) => number {
  return (kind) => actions.filter((a) => a.kind === kind).length;
}

/** `resume  VM 'x': follow <followed> that an earlier run started`. */
export function resumeLine(vm: string, followed: string): string {
  return planLine('resume', `${vm}: follow ${followed} that an earlier run started`);
}

const isNotSaved = (action: { kind: string }): action is NotSavedAction => action.kind === 'skip' || action.kind === 'ignore';

/**
 * The lines of every action in order: a VM skipped or not tagged worded here, any other action by the
 * route's `ownLines` (given the VM as the line names it).
 */
export function describeVmActions<A extends { kind: string; vm: SnapVm }>(
  actions: readonly (A | NotSavedAction)[],
  ownLines: (action: A, vm: string) => string[],
): string[] {
  return actions.flatMap((action) => {
    if (!isNotSaved(action)) return ownLines(action, `VM '${action.vm.name}'`);
    return action.kind === 'skip' ? [planLine('skip', `[${action.issue.code}] ${action.issue.message}`)] : [planLine('ignore', action.reason)];
  });
}
