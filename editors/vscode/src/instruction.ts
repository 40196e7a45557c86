// "Rewrite the selection…" needs an instruction: the server's code action leaves it out, and
// the extension asks for it with an input box before the command runs.

export const RUN_ACTION = 'hfLsp.runAction';

export type Ask = (prompt: string) => PromiseLike<string | undefined>;

/** Whether the command's argument is a rewrite still missing its instruction. */
export function needsInstruction(command: string, args: readonly unknown[]): boolean {
  if (command !== RUN_ACTION || args.length === 0) {
    return false;
  }
  const first = args[0];
  if (first === null || typeof first !== 'object') {
    return false;
  }
  const action = first as Record<string, unknown>;
  return action.action === 'rewrite' && !(typeof action.instruction === 'string' && action.instruction.trim());
}

/** The arguments with the instruction asked for; `undefined` when the user cancelled. */
export async function withInstruction(
  command: string,
  args: readonly unknown[],
  ask: Ask,
): Promise<unknown[] | undefined> {
  if (!needsInstruction(command, args)) {
    return [...args];
  }
  const text = await ask('How should the selection be rewritten? (e.g. "use a list comprehension")');
  if (text === undefined || !text.trim()) {
    return undefined;
  }
  const first = args[0] as Record<string, unknown>;
  return [{ ...first, instruction: text.trim() }, ...args.slice(1)];
}
