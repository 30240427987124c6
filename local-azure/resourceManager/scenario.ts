import { GUID, type Checker } from '../scenarioChecker';

/** The Resource Manager part of a scenario: `subscriptions`. Returns the ids it lists (lower case), or undefined when it lists none. */
export function checkSubscriptionsScenario(c: Checker, raw: unknown): Set<string> | undefined {
  const subscriptionIds = new Set<string>();
  c.array(raw, '$.subscriptions')?.forEach((item, i) => {
    const path = `$.subscriptions[${i}]`;
    const s = c.object(item, path, ['subscriptionId', 'displayName']);
    if (!s) return;
    const id = c.string(s.subscriptionId, `${path}.subscriptionId`, { required: true, pattern: GUID, hint: 'must be a GUID' });
    if (id) subscriptionIds.add(id.toLowerCase());
    c.string(s.displayName, `${path}.displayName`);
  });
  return raw === undefined ? undefined : subscriptionIds;
}
