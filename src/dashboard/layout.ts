import type { Flash } from './sessions.js';
import { html, type SafeHtml } from './html.js';

export interface PageFrame {
  title: string;
  /** Present when logged in: the logout form needs it. */
  csrf?: string;
  flash?: Flash | undefined;
  /** The logged-in user (shown beside "Log out"). */
  user?: string;
  /** Breadcrumb links after "Apps". */
  trail?: { href: string; text: string }[];
}

/** Every page: landmarks (header/nav/main), a skip link, one h1, and the flash message as a live region. */
export function layout(frame: PageFrame, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · MinPaas</title>
<link rel="stylesheet" href="/ui/static/dashboard.css">
<script src="/ui/static/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">MinPaas</span>
  ${frame.csrf ? nav(frame) : ''}
</header>
<main id="main" tabindex="-1">
${frame.flash ? html`<p class="flash ${frame.flash.kind}" role="${frame.flash.kind === 'error' ? 'alert' : 'status'}">${frame.flash.text}</p>` : ''}
${body}
</main>
</body>
</html>
`;
}

function nav(frame: PageFrame): SafeHtml {
  const trail = frame.trail ?? [];
  return html`<nav aria-label="Breadcrumb"><ol class="crumbs"><li><a href="/">Apps</a></li>${trail.map((t) => html`<li><a href="${t.href}">${t.text}</a></li>`)}</ol></nav>
  <form method="post" action="/ui/logout" class="logout">${frame.user ? html`<span class="user">${frame.user}</span> ` : ''}${csrfField(frame.csrf!)}<button type="submit">Log out</button></form>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${token}">`;
}
