/**
 * @module The review app's entry: opens the server's event stream, routes between the views by the
 * URL's hash, and hands keys to the help overlay (`?`) first and then to the view shown.
 */
import './style.css';
import { Api } from './api.js';
import { AuditView } from './audit-view.js';
import { DashboardView } from './dashboard-view.js';
import { h } from './dom.js';
import { GridView } from './grid-view.js';
import { commandKeys, GLOBAL_KEYS, KeyHelp } from './key-help.js';
import { Live } from './live.js';
import { MapView } from './map-view.js';
import { QueueView } from './queue-view.js';
import { StatusLine } from './status-line.js';
import { VerifyView } from './verify-view.js';
import type { View, ViewContext } from './view.js';

const ROUTES = [
  { path: 'queue', title: 'Label next' },
  { path: 'verify', title: 'Verify' },
  { path: 'grid', title: 'Grid' },
  { path: 'dashboard', title: 'Dashboard' },
  { path: 'map', title: 'Map' },
  { path: 'audit', title: 'Audit' },
] as const;
type Route = (typeof ROUTES)[number]['path'];

function start(root: HTMLElement): void {
  const api = new Api();
  const live = new Live(api);
  const status = new StatusLine(live);
  // Filled in once the views exist: they read it only when a class key is pressed or drawn.
  let commands: ReadonlySet<string> = new Set();
  const ctx: ViewContext = {
    api,
    live,
    notify: (message, kind) => status.notify(message, kind),
    commandKeys: () => commands,
  };
  const views: Record<Route, View> = {
    queue: new QueueView(ctx),
    verify: new VerifyView(ctx),
    grid: new GridView(ctx),
    dashboard: new DashboardView(ctx),
    map: new MapView(ctx),
    audit: new AuditView(ctx),
  };
  // One set for every view, since a class keeps its key across views.
  commands = commandKeys([...GLOBAL_KEYS, ...Object.values(views).flatMap((view) => view.keys ?? [])]);
  const help = new KeyHelp();
  const nav = h(
    'nav',
    {},
    ...ROUTES.map((route) => h('a', { href: `#/${route.path}`, 'data-route': route.path }, route.title)),
  );
  const main = h('main', {}, ...Object.values(views).map((view) => view.element));
  root.replaceChildren(
    h('header', { class: 'top' }, h('span', { class: 'brand' }, 'Autolabel'), nav),
    main,
    status.element,
    help.element,
  );

  let current: View | undefined;
  let currentTitle = '';
  const route = () => {
    const path = location.hash.replace(/^#\/?/, '').split('?')[0]!;
    // `#/review`: the grid's address before it had one name everywhere; old bookmarks still land there.
    const named = path === 'review' ? 'grid' : path;
    const name: Route = named in views ? (named as Route) : 'queue';
    const next = views[name];
    for (const link of nav.querySelectorAll<HTMLElement>('a')) {
      if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (next === current) return;
    current?.hide();
    for (const view of Object.values(views)) view.element.hidden = view !== next;
    current = next;
    help.close();
    currentTitle = ROUTES.find((r) => r.path === name)!.title;
    document.title = `${currentTitle} · Autolabel`;
    next.show();
  };
  // Keys go to the view, not to the nav link just used (Enter would follow it again): drop its focus
  // as it is activated, before any key can reach it.
  nav.addEventListener('click', (event) => (event.target as HTMLElement).closest('a')?.blur());
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', (event) => {
    const content = () => ({
      title: currentTitle,
      keys: current?.keys ?? [],
      classes: current?.classKeys?.(),
      commands,
    });
    if (!help.onKey(event, content)) current?.onKey?.(event);
  });
  live.start();
  route();
}

start(document.getElementById('app')!);
