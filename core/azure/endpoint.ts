/**
 * How the core reads an Azure DevOps service connection. The agent hands a task its service
 * connections as ENDPOINT_* variables; task-lib moves the secret ones into its vault at start-up, so
 * a task adapter reads them through task-lib while tests and local tools read a plain environment.
 */
export interface EndpointReader {
  url(connectionId: string): string | undefined;
  authScheme(connectionId: string): string | undefined;
  authParameter(connectionId: string, key: string): string | undefined;
  data(connectionId: string, key: string): string | undefined;
  /**
   * A pipeline variable by its dotted name (`System.OidcRequestUri`); workload identity federation
   * needs two. Readers without it cannot serve that scheme.
   */
  variable?(name: string): string | undefined;
}

/**
 * Reads the variables the agent sets (`ENDPOINT_URL_<id>`, `ENDPOINT_AUTH_<id>` as JSON,
 * `ENDPOINT_AUTH_SCHEME_<id>`, `ENDPOINT_AUTH_PARAMETER_<id>_<KEY>`, `ENDPOINT_DATA_<id>_<KEY>`)
 * from a plain environment, as task-lib does.
 */
export function envEndpointReader(env: Record<string, string | undefined>): EndpointReader {
  const auth = (id: string): { scheme?: string; parameters?: Record<string, string> } | undefined => {
    const raw = env[`ENDPOINT_AUTH_${id}`];
    if (!raw) return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  };
  return {
    url: (id) => env[`ENDPOINT_URL_${id}`],
    authScheme: (id) => env[`ENDPOINT_AUTH_SCHEME_${id}`] ?? auth(id)?.scheme,
    authParameter: (id, key) =>
      env[`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`] ?? authorizationParameter(auth(id)?.parameters, key),
    data: (id, key) => env[`ENDPOINT_DATA_${id}_${key.toUpperCase()}`],
    variable: (name) => env[variableEnvironmentName(name)],
  };
}

/** A parameter of a connection's authorization (`ENDPOINT_AUTH_<id>`), its key compared without case, as the agent's are. */
export function authorizationParameter(parameters: Record<string, string> | undefined, key: string): string | undefined {
  if (!parameters) return undefined;
  const wanted = key.toLowerCase();
  for (const [name, value] of Object.entries(parameters)) if (name.toLowerCase() === wanted) return value;
  return undefined;
}

/** The environment variable the agent sets for a pipeline variable: `System.OidcRequestUri` -> `SYSTEM_OIDCREQUESTURI`. */
export function variableEnvironmentName(name: string): string {
  return name.replace(/[.\s]/g, '_').toUpperCase();
}
