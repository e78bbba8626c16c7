/** What a load generator needs to hit one proxy (or the upstream itself) in one mode. */
import type { Mode } from './fixtures.js';

export type TargetName = 'direct' | 'switchyard' | 'switchyard-w2' | 'nginx' | 'portkey' | 'node-minimal' | 'node-raw';
export const TARGETS: readonly TargetName[] = ['direct', 'switchyard', 'switchyard-w2', 'nginx', 'portkey', 'node-minimal', 'node-raw'];

export const TARGET_LABEL: Record<TargetName, string> = {
  direct: 'direct to upstream',
  switchyard: 'Switchyard gateway',
  'switchyard-w2': 'Switchyard gateway, --workers 2',
  nginx: 'nginx proxy_pass',
  portkey: 'Portkey gateway',
  'node-minimal': 'reference: minimal Node proxy',
  'node-raw': 'reference: raw-socket Node proxy',
};

export interface Endpoint {
  target: TargetName;
  mode: Mode;
  host: string;
  port: number;
  path: string;
  /** Extra request headers (Content-Type is always application/json). */
  headers: Record<string, string>;
  body: string;
  /** PIDs whose CPU time is the proxy's (empty for direct). */
  proxyPids: number[];
}

export function endpointUrl(e: Endpoint): string {
  return `http://${e.host}:${e.port}${e.path}`;
}
