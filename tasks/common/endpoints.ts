import { Writable } from 'node:stream';
import * as tl from 'azure-pipelines-task-lib/task';
import { authorizationParameter, type EndpointReader } from '../../core/azure/endpoint';
import { ACCESS_TOKEN_VARIABLE } from '../../core/azure/serviceConnection';
import type { Reporter } from '../../core/report';

/**
 * Service connections and pipeline variables read through task-lib, without their secrets ever reaching
 * the log. task-lib debug-logs every value it reads (`<id> auth param <key> = <value>`, `<name>=<value>`),
 * before the task could register it as a secret: in a pipeline the agent masks what it knows, but a local
 * run with `--debug` printed the client secret and the certificate's private key. So the authorization is
 * read whole (getEndpointAuthorization logs only that it exists), a parameter it lacks is read with
 * task-lib's output held back, and every parameter that may be secret is registered with the agent
 * before anything can print it.
 */

/** Authorization parameters that name things rather than prove identity; every other one is a secret. */
const PUBLIC_PARAMETERS = new Set(
  ['tenantid', 'serviceprincipalid', 'authenticationType', 'scope', 'workloadIdentityFederationIssuer', 'workloadIdentityFederationSubject'].map(
    (key) => key.toLowerCase(),
  ),
);
/** Pipeline variables that are secrets. */
const SECRET_VARIABLES = new Set([ACCESS_TOKEN_VARIABLE.toLowerCase()]);

export function taskEndpointReader(reporter: Pick<Reporter, 'maskSecret'>): EndpointReader {
  const secret = (value: string | undefined): string | undefined => {
    if (value) reporter.maskSecret(value);
    return value;
  };
  return {
    url: (id) => tl.getEndpointUrl(id, true),
    authScheme: (id) => tl.getEndpointAuthorizationScheme(id, true),
    authParameter: (id, key) => {
      const value = authorizationParameter(tl.getEndpointAuthorization(id, true)?.parameters, key) || quietly(() => tl.getEndpointAuthorizationParameter(id, key, true));
      return PUBLIC_PARAMETERS.has(key.toLowerCase()) ? value : secret(value);
    },
    data: (id, key) => tl.getEndpointDataParameter(id, key, true),
    variable: (name) => (SECRET_VARIABLES.has(name.toLowerCase()) ? secret(quietly(() => tl.getVariable(name))) : tl.getVariable(name)),
  };
}

const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

/** Runs a task-lib read with its debug output dropped; task-lib writes synchronously, so nothing else is lost. */
function quietly<T>(read: () => T): T {
  tl.setStdStream(discard);
  try {
    return read();
  } finally {
    tl.setStdStream(process.stdout);
  }
}
