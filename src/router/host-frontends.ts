import path from 'node:path';
import { formatAddress, routerPaths } from './haproxy-config.js';

/**
 * The shared HTTP and HTTPS frontends of host routing (issue 11). Their text depends on
 * settings only: which host goes to which app lives in map files that the runtime API
 * edits (`add map`/`del map`/`set map`), and certificates in a crt-list that it edits
 * too (`new/set/commit ssl cert`, `add ssl crt-list`). So no domain or certificate change
 * ever needs a reload; the files on disk are kept equal to memory for the next start.
 */

export interface HostRoutingOptions {
  httpPort: number;
  httpsPort: number;
  /** The control plane's unix socket: the ACME challenge path and the control host go there. */
  controlSocket: string;
}

export interface HostRoutingPaths {
  /** `host backend` lines. */
  hostsMap: string;
  /** `host 1` for every host whose HTTP requests redirect to HTTPS. */
  redirectMap: string;
  /** The certificates the HTTPS bind serves, by SNI. */
  crtList: string;
  certDir: string;
  /** Self-signed, served to clients that name no known host (HAProxy needs one certificate). */
  defaultCert: string;
}

export const CONTROL_BACKEND = 'be_minpaas_control';
export const NOT_FOUND_BACKEND = 'be_minpaas_404';
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export function hostRoutingPaths(dataDir: string): HostRoutingPaths {
  const dir = routerPaths(dataDir).dir;
  return {
    hostsMap: path.join(dir, 'hosts.map'),
    redirectMap: path.join(dir, 'redirect.map'),
    crtList: path.join(dir, 'certs.list'),
    certDir: path.join(dir, 'certs'),
    defaultCert: path.join(dir, 'default.pem'),
  };
}

/** Request headers every app gets from the shared frontends. */
function forwardedHeaders(proto: 'http' | 'https'): string[] {
  return [
    `    http-request set-header X-Forwarded-Proto ${proto}`,
    '    http-request set-header X-Forwarded-Host %[req.hdr(host)]',
    // One id per request, in the app's request and in HAProxy's log.
    '    unique-id-format %[uuid()]',
    '    unique-id-header X-Request-Id',
    // Name without port, lower-cased: the key of both maps.
    '    http-request set-var(txn.host) req.hdr(host),field(1,:),lower',
  ];
}

function hostSelection(p: HostRoutingPaths): string[] {
  const lookup = `var(txn.host),map(${p.hostsMap})`;
  return [
    `    use_backend %[${lookup}] if { ${lookup} -m found }`,
    `    default_backend ${NOT_FOUND_BACKEND}`,
  ];
}

function redirectLine(opts: HostRoutingOptions, p: HostRoutingPaths): string {
  const port = opts.httpsPort === 443 ? '' : `:${opts.httpsPort}`;
  return `    http-request redirect location https://%[var(txn.host)]${port}%[pathq] code 308 if !is_acme { var(txn.host),map(${p.redirectMap}) -m found }`;
}

export function hostFrontendLines(dataDir: string, bind: string, opts: HostRoutingOptions): string[] {
  const p = hostRoutingPaths(dataDir);
  return [
    `backend ${NOT_FOUND_BACKEND}`,
    '    http-request return status 404 content-type "text/plain; charset=utf-8" string "404 Not Found: no app is served at this host name."',
    '',
    `backend ${CONTROL_BACKEND}`,
    // Pushes stream a build for minutes: the build timeout bounds them, not the router.
    '    timeout server 1h',
    `    server control unix@${opts.controlSocket}`,
    '',
    'frontend fe_minpaas_http',
    `    bind ${formatAddress(bind, opts.httpPort)}`,
    `    acl is_acme path_beg ${ACME_CHALLENGE_PREFIX}`,
    ...forwardedHeaders('http'),
    redirectLine(opts, p),
    `    use_backend ${CONTROL_BACKEND} if is_acme`,
    ...hostSelection(p),
    '',
    'frontend fe_minpaas_https',
    `    bind ${formatAddress(bind, opts.httpsPort)} ssl crt ${p.defaultCert} crt-list ${p.crtList} alpn h2,http/1.1 ssl-min-ver TLSv1.2`,
    ...forwardedHeaders('https'),
    ...hostSelection(p),
    '',
  ];
}
