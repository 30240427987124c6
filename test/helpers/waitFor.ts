/**
 * Calls `probe` every `intervalMs` until it returns something other than undefined, and resolves with that;
 * resolves undefined once `timeoutMs` has passed, so the caller's assertion says what was not seen.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
