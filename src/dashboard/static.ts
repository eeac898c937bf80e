/**
 * The dashboard's only script and style sheet, served from /ui/static/ (the CSP allows
 * nothing inline). Kept as strings so `tsc` output needs no copied assets. The script
 * only follows live streams; every page reads fine without it.
 */
export const DASHBOARD_JS = `'use strict';
(function () {
  var pre = document.querySelector('pre[data-follow]');
  if (!pre || !window.EventSource) return;
  var state = document.getElementById('follow-state');
  var source = new EventSource(pre.getAttribute('data-follow'));
  var cleared = false;
  var MAX = 5000;
  function atBottom() { return pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40; }
  source.addEventListener('open', function () {
    if (state) state.textContent = 'Following live.';
  });
  source.addEventListener('message', function (e) {
    // The stream starts with the lines so far: they replace the ones the page was rendered with.
    if (!cleared) { pre.textContent = ''; cleared = true; }
    var follow = atBottom();
    pre.appendChild(document.createTextNode(e.data + '\\n'));
    while (pre.childNodes.length > MAX) pre.removeChild(pre.firstChild);
    if (follow) pre.scrollTop = pre.scrollHeight;
  });
  source.addEventListener('done', function (e) {
    source.close();
    var status = document.getElementById('deploy-status');
    if (status) { status.textContent = e.data; status.className = 'badge ' + (e.data === 'succeeded' ? 'ok' : 'bad'); }
    if (state) state.textContent = 'Finished: ' + e.data + '.';
  });
  source.addEventListener('error', function () {
    if (state && source.readyState === EventSource.CLOSED) state.textContent = 'The stream ended.';
  });
})();
`;

/* Colours: text on background and badges keep a contrast ratio of at least 4.5:1 (WCAG AA). */
export const DASHBOARD_CSS = `
:root { --fg: #1b1f24; --bg: #ffffff; --muted: #4a5260; --line: #d0d7de; --accent: #0a58ca; --ok-bg: #dff5e3; --ok-fg: #14532d; --bad-bg: #fde2e1; --bad-fg: #8a1c1c; --neutral-bg: #eef1f4; --focus: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--fg); color: var(--bg); padding: .5rem 1rem; }
.skip:focus { left: 0; }
.top { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); background: #f6f8fa; }
.brand { font-weight: 700; }
.crumbs { display: flex; gap: .5rem; list-style: none; margin: 0; padding: 0; }
.crumbs li + li::before { content: "/"; margin-right: .5rem; color: var(--muted); }
.logout { margin-left: auto; display: flex; gap: .75rem; align-items: center; }
.user { color: var(--muted); }
main { padding: 1rem 1.5rem 3rem; max-width: 72rem; }
main:focus { outline: none; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 0 0 .75rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }
.narrow { max-width: 26rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { color: var(--muted); font-weight: 600; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 .5rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input { font: inherit; padding: .4rem .5rem; border: 1px solid #6b7280; border-radius: 4px; min-width: 14rem; }
button { font: inherit; padding: .4rem .9rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: var(--bg); color: var(--accent); }
.row { display: flex; gap: .75rem; align-items: flex-end; flex-wrap: wrap; margin-top: 1rem; }
.inline { display: inline; margin: 0; }
.narrow input { width: 100%; margin-bottom: .5rem; }
.hint { color: var(--muted); font-size: .9rem; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .85rem; background: var(--neutral-bg); color: var(--fg); }
.badge.ok { background: var(--ok-bg); color: var(--ok-fg); }
.badge.bad { background: var(--bad-bg); color: var(--bad-fg); }
.flash { padding: .6rem .8rem; border-radius: 4px; background: var(--ok-bg); color: var(--ok-fg); }
.flash.error { background: var(--bad-bg); color: var(--bad-fg); }
.masked { letter-spacing: .1em; color: var(--muted); }
.value { white-space: pre-wrap; word-break: break-all; }
.log { background: #111418; color: #e6e6e6; padding: 1rem; border-radius: 6px; overflow: auto; max-height: 70vh; white-space: pre-wrap; word-break: break-word; font-size: .85rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
