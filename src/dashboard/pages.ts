import type { AppRecord, Deploy, ReleaseRecord } from '../domain/types.js';
import type { Offers } from './access.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, layout } from './layout.js';
import type { Flash } from './sessions.js';

export interface PageContext {
  csrf: string;
  flash?: Flash | undefined;
  /** The logged-in user's name. */
  user: string;
}

const appHref = (name: string): string => `/ui/apps/${encodeURIComponent(name)}`;
const when = (iso: string | null): SafeHtml => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>` : html`—`);

export function loginPage(error?: string): SafeHtml {
  return layout(
    { title: 'Log in', ...(error ? { flash: { kind: 'error' as const, text: error } } : {}) },
    html`<h1>Log in</h1>
<form method="post" action="/ui/login" class="card narrow">
  <label for="token">Token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <p class="hint">The owner token (in <code>&lt;data dir&gt;/token</code> or <code>MINPAAS_TOKEN</code>), or your own token from <code>minpaas tokens:create</code>: you see the apps your roles give you.</p>
  <button type="submit">Log in</button>
</form>`,
  );
}

export function appsPage(ctx: PageContext, apps: AppRecord[], lastDeploys: Map<string, Deploy | undefined>): SafeHtml {
  const rows = apps.map((a) => {
    const last = lastDeploys.get(a.name);
    return html`<tr>
  <th scope="row"><a href="${appHref(a.name)}">${a.name}</a></th>
  <td>${statusBadge(a.status)}</td>
  <td>${a.release === null ? '—' : `v${a.release}`}</td>
  <td><a href="${a.url}">${a.url}</a></td>
  <td>${last ? html`<a href="${appHref(a.name)}/deploys/${last.id}">#${last.id}</a> ${statusBadge(last.status)} ${when(last.startedAt)}` : '—'}</td>
</tr>`;
  });
  return layout(
    { title: 'Apps', ...ctx },
    html`<h1>Apps</h1>
${apps.length === 0 ? html`<p>No apps here yet. Push one: <code>git push http://x:TOKEN@HOST:PORT/APP.git main</code>, or ask an owner or an app's admin for access (<code>minpaas access:add APP ${ctx.user} --role read</code>).</p>` : html`<table>
<caption class="sr-only">Every app with its status, release, URL and last deploy</caption>
<thead><tr><th scope="col">App</th><th scope="col">Status</th><th scope="col">Release</th><th scope="col">URL</th><th scope="col">Last deploy</th></tr></thead>
<tbody>${rows}</tbody>
</table>`}`,
  );
}

export interface AppPageData {
  app: AppRecord;
  releases: ReleaseRecord[];
  deploys: Deploy[];
  config: Record<string, string>;
  /** Config keys whose values are shown; the others are masked. */
  revealed: Set<string>;
  /** The changes the user's role allows here (the others are not offered, and refused). */
  offers: Offers;
}

export function appPage(ctx: PageContext, d: AppPageData): SafeHtml {
  const { app } = d;
  return layout(
    { title: app.name, ...ctx, trail: [{ href: appHref(app.name), text: app.name }] },
    html`<h1>${app.name}</h1>
<section aria-labelledby="overview" class="card">
<h2 id="overview">Overview</h2>
<dl class="facts">
  <dt>Status</dt><dd>${statusBadge(app.status)}</dd>
  <dt>Release</dt><dd>${app.release === null ? 'none yet' : `v${app.release}`}</dd>
  <dt>URL</dt><dd><a href="${app.url}">${app.url}</a></dd>
  <dt>Runtime</dt><dd>${app.runtime} (${app.builder} build)</dd>
  <dt>Runs on</dt><dd>${app.scheduler === 'swarm' ? 'the Docker Swarm' : 'this engine (docker-local)'}</dd>
  <dt>Restarts</dt><dd>${app.restarts}</dd>
</dl>
<p><a href="${appHref(app.name)}/logs">Live logs</a></p>
</section>
${configSection(ctx, d)}
<section aria-labelledby="resources" class="card">
<h2 id="resources">Resources</h2>
<dl class="facts"><dt>Memory</dt><dd>${app.resources.memory}</dd><dt>CPUs</dt><dd>${app.resources.cpus === 0 ? 'no limit' : app.resources.cpus}</dd></dl>
</section>
${processesSection(d)}
${releasesSection(ctx, d)}
${deploysSection(d)}`,
  );
}

function configSection(ctx: PageContext, d: AppPageData): SafeHtml {
  const base = appHref(d.app.name);
  const { offers } = d;
  const keys = Object.keys(d.config).sort();
  const masked = html`<span class="masked" aria-label="hidden value">••••••</span>`;
  const value = (key: string): SafeHtml | string => {
    if (d.revealed.has(key)) return html`<code class="value">${d.config[key]!}</code>`;
    return offers.revealConfig ? html`${masked} <a href="${base}?reveal=${encodeURIComponent(key)}#config">Reveal<span class="sr-only"> ${key}</span></a>` : masked;
  };
  const rows = keys.map(
    (key) => html`<tr>
  <th scope="row"><code>${key}</code></th>
  <td>${value(key)}</td>
  ${offers.changeConfig ? html`<td><form method="post" action="${base}/config" class="inline">${csrfField(ctx.csrf)}<input type="hidden" name="key" value="${key}"><input type="hidden" name="unset" value="1"><button type="submit" class="secondary">Unset<span class="sr-only"> ${key}</span></button></form></td>` : ''}
</tr>`,
  );
  const actions = offers.changeConfig ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : '';
  return html`<section aria-labelledby="config" class="card">
<h2 id="config">Config vars</h2>
${keys.length ? html`<table><thead><tr><th scope="col">Name</th><th scope="col">Value</th>${actions}</tr></thead><tbody>${rows}</tbody></table>` : html`<p>No config vars.</p>`}
${offers.changeConfig ? html`<form method="post" action="${base}/config" class="row">
  ${csrfField(ctx.csrf)}
  <div><label for="config-key">Name</label><input id="config-key" name="key" required pattern="[A-Za-z_][A-Za-z0-9_]*" autocomplete="off"></div>
  <div><label for="config-value">Value</label><input id="config-value" name="value" type="password" autocomplete="off"></div>
  <button type="submit">Set</button>
</form>
<p class="hint">Setting or unsetting a var makes a new release on the same image.</p>` : html`<p class="hint" id="config-role">Your role on ${d.app.name} ${offers.revealConfig ? 'shows config values but does not change them' : 'shows config names only'}; changing config needs the admin role.</p>`}
</section>`;
}

/** The serving release's process types (Procfile; `web` always). Scaling them is not there yet, so only their commands are shown. */
function processesSection(d: AppPageData): SafeHtml {
  const current = d.releases.find((r) => r.number === d.app.release);
  const types = Object.entries(current?.processTypes ?? {});
  if (types.length === 0) return html``;
  return html`<section aria-labelledby="processes" class="card">
<h2 id="processes">Process types</h2>
<dl class="facts">${types.map(([type, command]) => html`<dt>${type}</dt><dd><code>${command}</code></dd>`)}</dl>
</section>`;
}

function releasesSection(ctx: PageContext, d: AppPageData): SafeHtml {
  const base = appHref(d.app.name);
  const rows = d.releases.map(
    (r) => html`<tr>
  <th scope="row">v${r.number}</th>
  <td>${r.description}</td>
  <td>${r.commit ? html`<code>${r.commit.slice(0, 12)}</code>` : '—'}</td>
  <td>${when(r.createdAt)}</td>
  <td>${r.number === d.app.release ? html`<span class="badge ok">serving</span>` : !d.offers.rollback ? '' : html`<form method="post" action="${base}/rollback" class="inline">${csrfField(ctx.csrf)}<input type="hidden" name="release" value="${r.number}"><button type="submit" class="secondary">Roll back to v${r.number}</button></form>`}</td>
</tr>`,
  );
  return html`<section aria-labelledby="releases" class="card">
<h2 id="releases">Releases</h2>
${d.releases.length ? html`<table><thead><tr><th scope="col">Release</th><th scope="col">Description</th><th scope="col">Commit</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>No releases yet.</p>`}
</section>`;
}

function deploysSection(d: AppPageData): SafeHtml {
  const base = appHref(d.app.name);
  const rows = d.deploys.map(
    (x) => html`<tr>
  <th scope="row"><a href="${base}/deploys/${x.id}">#${x.id}</a></th>
  <td>${statusBadge(x.status)}</td>
  <td>${x.source}</td>
  <td>${x.release === null ? '—' : `v${x.release}`}</td>
  <td>${when(x.startedAt)}</td>
  <td>${x.error ?? ''}</td>
</tr>`,
  );
  return html`<section aria-labelledby="deploys" class="card">
<h2 id="deploys">Deploys</h2>
${d.deploys.length ? html`<table><thead><tr><th scope="col">Deploy</th><th scope="col">Status</th><th scope="col">Source</th><th scope="col">Release</th><th scope="col">Started</th><th scope="col">Error</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>No deploys yet.</p>`}
</section>`;
}

export function logsPage(ctx: PageContext, app: string, recent: string, note?: string): SafeHtml {
  const base = appHref(app);
  return layout(
    { title: `${app} logs`, ...ctx, trail: [{ href: base, text: app }, { href: `${base}/logs`, text: 'Logs' }] },
    html`<h1>Logs of ${app}</h1>
${note ? html`<p>${note}</p>` : ''}
<p class="hint" id="follow-state" aria-live="polite">Showing the last lines. With JavaScript on, new lines appear as the app writes them.</p>
<pre class="log" id="log" tabindex="0" aria-label="Log lines" data-follow="${base}/logs/stream">${recent}</pre>`,
  );
}

export function deployPage(ctx: PageContext, app: string, deploy: Deploy, log: string, live: boolean): SafeHtml {
  const base = appHref(app);
  return layout(
    { title: `${app} deploy #${deploy.id}`, ...ctx, trail: [{ href: base, text: app }, { href: `${base}/deploys/${deploy.id}`, text: `Deploy #${deploy.id}` }] },
    html`<h1>Deploy #${deploy.id} of ${app}</h1>
<p>Status: <span id="deploy-status">${statusBadge(deploy.status)}</span> · source ${deploy.source} · started ${when(deploy.startedAt)}${deploy.release !== null ? ` · released v${deploy.release}` : ''}</p>
${deploy.error ? html`<p class="flash error">${deploy.error}</p>` : ''}
${live ? html`<p class="hint" id="follow-state" aria-live="polite">This deploy is running. With JavaScript on, its log follows live; otherwise reload the page.</p>` : ''}
<pre class="log" id="log" tabindex="0" aria-label="Build log"${live ? html` data-follow="${base}/deploys/${deploy.id}/stream"` : ''}>${log}</pre>`,
  );
}

export function errorPage(ctx: PageContext | undefined, status: number, message: string): SafeHtml {
  return layout({ title: `Error ${status}`, ...(ctx ?? {}) }, html`<h1>${status === 404 ? 'Not found' : 'Something went wrong'}</h1><p>${message}</p><p><a href="/">Back to the apps</a></p>`);
}

function statusBadge(status: string): SafeHtml {
  const tone = ['running', 'succeeded'].includes(status) ? 'ok' : ['failed', 'exited', 'dead', 'missing'].includes(status) ? 'bad' : 'neutral';
  return html`<span class="badge ${tone}">${status}</span>`;
}
