// The snowplow-mini event browser: a client of the same /micro API test suites use.
//
// Everything the page shows of an event goes into the DOM as text (textContent,
// setAttribute on plain attributes): event data is never parsed as markup, and the
// page's Content-Security-Policy allows no inline script besides.
'use strict';

const FAILURE_KEY = 'contexts_com_snowplowanalytics_snowplow_failure_1';
const DEFAULT_COLUMNS = ['collector_tstamp', 'event', 'event_name', 'app_id', 'platform', 'page_url'];
const RANGES = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };
const BUCKETS = 48;

const $ = (id) => document.getElementById(id);

// el builds an element; children that are strings become text nodes.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

// ---- state, kept in the URL so that a view can be shared ----

const state = {
  view: 'events', valid: 'all', range: '1h', from: '', to: '',
  filters: [], sort: null, page: 1, size: 50, cols: DEFAULT_COLUMNS.slice(),
  ev: '', schema: '',
};

function readURL() {
  const q = new URLSearchParams(location.search);
  state.view = q.get('v') === 'schemas' ? 'schemas' : 'events';
  state.valid = ['valid', 'failed'].includes(q.get('valid')) ? q.get('valid') : 'all';
  state.range = q.get('range') || '1h';
  if (!(state.range in RANGES) && state.range !== 'all' && state.range !== 'custom') state.range = '1h';
  state.from = q.get('from') || '';
  state.to = q.get('to') || '';
  state.filters = q.getAll('f').map((f) => {
    const i = f.indexOf(':');
    return i < 0 ? null : { column: f.slice(0, i), values: f.slice(i + 1).split(',').filter(Boolean) };
  }).filter((f) => f && f.values.length);
  const sort = q.get('sort');
  state.sort = sort ? { column: sort.replace(/^-/, ''), desc: sort.startsWith('-') } : null;
  state.page = Math.max(1, parseInt(q.get('page'), 10) || 1);
  state.size = [25, 50, 100, 250].includes(parseInt(q.get('size'), 10)) ? parseInt(q.get('size'), 10) : 50;
  state.cols = q.get('cols') ? q.get('cols').split(',').filter(Boolean) : DEFAULT_COLUMNS.slice();
  state.ev = q.get('ev') || '';
  state.schema = q.get('schema') || '';
}

function writeURL() {
  const q = new URLSearchParams();
  if (state.view !== 'events') q.set('v', state.view);
  if (state.valid !== 'all') q.set('valid', state.valid);
  if (state.range !== '1h') q.set('range', state.range);
  if (state.range === 'custom') {
    if (state.from) q.set('from', state.from);
    if (state.to) q.set('to', state.to);
  }
  for (const f of state.filters) q.append('f', f.column + ':' + f.values.join(','));
  if (state.sort) q.set('sort', (state.sort.desc ? '-' : '') + state.sort.column);
  if (state.page > 1) q.set('page', state.page);
  if (state.size !== 50) q.set('size', state.size);
  if (state.cols.join(',') !== DEFAULT_COLUMNS.join(',')) q.set('cols', state.cols.join(','));
  if (state.ev) q.set('ev', state.ev);
  if (state.schema) q.set('schema', state.schema);
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
}

// ---- API ----

// When the server requires an API key (SNOWPLOW_MINI_API_KEY), the page asks for it
// once and keeps it for this tab only.
const KEY = 'snowplow-mini-api-key';
let asking = null;
function askForKey() {
  if (!asking) {
    asking = Promise.resolve().then(() => {
      const k = window.prompt('This snowplow-mini requires its API key:');
      if (k) sessionStorage.setItem(KEY, k.trim());
      asking = null;
      return Boolean(k);
    });
  }
  return asking;
}

async function request(path, opts = {}, retried = false) {
  const key = sessionStorage.getItem(KEY);
  const headers = Object.assign({}, opts.headers, key ? { 'X-API-Key': key } : {});
  const res = await fetch(path, Object.assign({}, opts, { headers }));
  if (res.status === 401 && !retried && await askForKey()) return request(path, opts, true);
  return res;
}

async function api(path, body) {
  const opts = body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const res = await request(path, opts);
  if (!res.ok) throw new Error(path + ': ' + res.status + ' ' + (await res.text()));
  return res.json();
}

function timeWindow() {
  const now = Date.now();
  if (state.range in RANGES) return { start: new Date(now - RANGES[state.range]), end: null };
  if (state.range === 'custom') {
    return { start: state.from ? new Date(state.from + 'Z') : null, end: state.to ? new Date(state.to + 'Z') : null };
  }
  return { start: null, end: null };
}

function eventsRequest(page, size, extraFilters) {
  const req = { page, pageSize: size, filters: state.filters.concat(extraFilters || []) };
  if (state.valid !== 'all') req.validEvents = state.valid === 'valid';
  const w = timeWindow();
  if (w.start || w.end) {
    req.timeRange = {};
    if (w.start) req.timeRange.start = w.start.toISOString();
    if (w.end) req.timeRange.end = w.end.toISOString();
  }
  if (state.sort) req.sorting = { column: state.sort.column, desc: state.sort.desc };
  return req;
}

// ---- values of events ----

const isComplex = (c) => c.startsWith('contexts_') || c.startsWith('unstruct_event') || c.includes('.');
const isFailed = (ev) => Array.isArray(ev[FAILURE_KEY]);

function valueOf(ev, col) {
  const dot = col.indexOf('.');
  if (dot < 0) return ev[col];
  const base = ev[col.slice(0, dot)];
  const field = col.slice(dot + 1);
  if (Array.isArray(base)) {
    const vs = base.map((o) => (o && typeof o === 'object' ? o[field] : undefined)).filter((v) => v !== undefined);
    return vs.length === 0 ? undefined : vs.length === 1 ? vs[0] : vs;
  }
  return base && typeof base === 'object' ? base[field] : undefined;
}

function display(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function shortTime(iso) {
  if (typeof iso !== 'string') return display(iso);
  return iso.replace('T', ' ').replace(/Z$/, '');
}

// ---- the events table ----

let pageEvents = [];
let totalItems = 0;
let totalPages = 1;

function renderHead() {
  const head = $('head');
  head.replaceChildren(el('th', { class: 'status', scope: 'col' }, ''));
  for (const col of state.cols) {
    const sortable = !isComplex(col);
    const sorted = state.sort && state.sort.column === col;
    const arrow = sorted ? (state.sort.desc ? ' ▼' : ' ▲') : '';
    const th = el('th', {
      scope: 'col', class: sortable ? 'sortable' : null, title: sortable ? 'Sort by ' + col : col,
      'aria-sort': sorted ? (state.sort.desc ? 'descending' : 'ascending') : null,
    }, col, arrow);
    if (sortable) {
      th.addEventListener('click', () => {
        if (!sorted) state.sort = { column: col, desc: false };
        else if (!state.sort.desc) state.sort.desc = true;
        else state.sort = null;
        state.page = 1;
        refresh();
      });
    }
    head.append(th);
  }
}

function renderRows() {
  const rows = $('rows');
  rows.replaceChildren();
  pageEvents.forEach((ev, i) => {
    const failed = isFailed(ev);
    const tr = el('tr', { class: failed ? 'failed' : 'valid', tabindex: 0, 'data-index': i, 'data-event-id': ev.event_id || '' },
      el('td', { class: 'status', title: failed ? 'Failed: ' + failureSummary(ev) : 'Valid' }, el('span', { class: 'dot' }), failed ? 'failed' : 'valid'));
    for (const col of state.cols) {
      let v = valueOf(ev, col);
      let text = display(v);
      if (col.endsWith('_tstamp')) text = shortTime(v);
      tr.append(el('td', { title: text.length > 40 ? text : null }, text));
    }
    tr.addEventListener('click', () => openEvent(i));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') openEvent(i); });
    rows.append(tr);
  });
  $('empty').hidden = pageEvents.length > 0;
  const first = totalItems === 0 ? 0 : (state.page - 1) * state.size + 1;
  const last = (state.page - 1) * state.size + pageEvents.length;
  $('page-info').textContent = totalItems === 0 ? 'No events' : `${first}–${last} of ${totalItems} · page ${state.page} of ${totalPages}`;
  $('prev').disabled = state.page <= 1;
  $('next').disabled = state.page >= totalPages;
}

async function loadEvents() {
  const res = await api('/micro/events', eventsRequest(state.page, state.size));
  pageEvents = res.events;
  totalItems = res.totalItems;
  totalPages = res.totalPages;
  if (state.page > totalPages) {
    state.page = totalPages;
    return loadEvents();
  }
  renderHead();
  renderRows();
}

// ---- the timeline ----

async function loadTimeline() {
  const w = timeWindow();
  const end = w.end || new Date();
  let start = w.start;
  if (!start) {
    // All time: from the oldest stored event, at least the last 15 minutes.
    const oldest = await api('/micro/events', { page: 1, pageSize: 1, sorting: { column: 'collector_tstamp', desc: false } });
    const t = oldest.events.length ? Date.parse(oldest.events[0].collector_tstamp) : NaN;
    start = new Date(Math.min(isNaN(t) ? Infinity : t, end - RANGES['15m']));
  }
  const step = Math.max(1000, Math.ceil((end - start) / BUCKETS));
  const buckets = [];
  for (let t = start.getTime(); t < end.getTime(); t += step) {
    buckets.push({ start: new Date(t).toISOString(), end: new Date(Math.min(t + step, end.getTime())).toISOString() });
  }
  const res = await api('/micro/timeline', { buckets });
  drawTimeline(res.points);
  $('timeline-span').textContent = `${shortTime(start.toISOString()).slice(0, 16)} – ${shortTime(end.toISOString()).slice(0, 16)} UTC`;
}

function drawTimeline(points) {
  const chart = $('timeline');
  const W = 1000, H = 90, pad = 2;
  chart.setAttribute('viewBox', `0 0 ${W} ${H}`);
  chart.replaceChildren();
  const max = Math.max(1, ...points.map((p) => p.validEvents + p.failedEvents));
  const bw = W / Math.max(1, points.length);
  chart.append(svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, class: 'axis' }));
  points.forEach((p, i) => {
    const x = i * bw + pad / 2;
    const hv = (p.validEvents / max) * (H - 8);
    const hf = (p.failedEvents / max) * (H - 8);
    const g = svg('g', { class: 'bar' });
    const title = svg('title', {});
    title.textContent = `${shortTime(p.bucket.start)} UTC: ${p.validEvents} valid, ${p.failedEvents} failed`;
    g.append(title);
    g.append(svg('rect', { x, y: 0, width: Math.max(1, bw - pad), height: H, class: 'hit' }));
    if (hv > 0) g.append(svg('rect', { x, y: H - hv, width: Math.max(1, bw - pad), height: hv, class: 'good' }));
    if (hf > 0) g.append(svg('rect', { x, y: H - hv - hf, width: Math.max(1, bw - pad), height: hf, class: 'bad' }));
    g.addEventListener('click', () => {
      state.range = 'custom';
      state.from = p.bucket.start.replace(/\.\d+Z$|Z$/, '');
      state.to = p.bucket.end.replace(/\.\d+Z$|Z$/, '');
      state.page = 1;
      syncControls();
      refresh();
    });
    chart.append(g);
  });
}

// ---- the side panel ----

let panelJSON = '';

function showPanel(title, obj, failure) {
  panelJSON = JSON.stringify(obj, null, 2);
  $('panel-title').textContent = title;
  $('panel-json').textContent = panelJSON;
  const box = $('panel-failure');
  box.replaceChildren();
  box.hidden = !failure;
  if (failure) renderFailure(box, failure);
  $('panel').hidden = false;
  document.body.classList.add('with-panel');
}

function closePanel() {
  $('panel').hidden = true;
  document.body.classList.remove('with-panel');
  state.ev = '';
  state.schema = '';
  writeURL();
}

function openEvent(i) {
  const ev = pageEvents[i];
  if (!ev) return;
  state.ev = ev.event_id || '';
  writeURL();
  const name = ev.event_name || ev.event || 'event';
  showPanel((isFailed(ev) ? 'Failed ' : '') + name + (ev.collector_tstamp ? ' · ' + shortTime(ev.collector_tstamp) : ''), ev, isFailed(ev) ? ev[FAILURE_KEY][0] : null);
  for (const tr of $('rows').children) tr.classList.toggle('selected', tr.dataset.index === String(i));
}

// explain turns a failure entity into plain-language lines: what failed, where, why.
function explain(f) {
  const out = [];
  const errors = Array.isArray(f.errors) ? f.errors : [];
  for (const e of errors) {
    if (!e || typeof e !== 'object') { out.push({ what: display(e) }); continue; }
    if (e.schemaKey && e.error) {
      const reports = Array.isArray(e.error.dataReports) ? e.error.dataReports : [];
      if (reports.length) {
        for (const r of reports) {
          let path = r.path || '$';
          // A missing property is reported on its parent object: point at the property.
          if (r.keyword === 'required' && Array.isArray(r.targets) && r.targets.length === 1) path = path + '.' + r.targets[0];
          out.push({ schema: e.schemaKey, path, message: r.message, keyword: r.keyword });
        }
      } else if (e.error.error === 'ResolutionError') {
        const repos = e.error.lookupHistory ? e.error.lookupHistory.map((h) => h.repository).join(', ') : '';
        out.push({ schema: e.schemaKey, message: 'The schema could not be found' + (repos ? ' in ' + repos : '') + '. Add it to a schema folder or to a registry the resolver reads.' });
      } else {
        out.push({ schema: e.schemaKey, message: e.error.message || e.error.error || JSON.stringify(e.error) });
      }
    } else if (e.enrichment || (e.message && typeof e.message === 'object')) {
      const m = e.message || {};
      out.push({
        schema: e.enrichment && e.enrichment.schemaKey,
        path: m.field, value: m.value,
        message: (e.enrichment ? 'Enrichment ' + (e.enrichment.identifier || '') + ': ' : '') + (m.expectation || m.error || JSON.stringify(m)),
      });
    } else if (e.field || e.expectation) {
      out.push({ path: e.field, value: e.value, message: e.expectation || e.error || '' });
    } else {
      out.push({ message: e.error || e.message || e.expectation || JSON.stringify(e) });
    }
  }
  if (out.length === 0) out.push({ message: 'No details were recorded for this failure.' });
  return out;
}

function failureSummary(ev) {
  const f = ev[FAILURE_KEY][0] || {};
  const first = explain(f)[0];
  return [f.failureType, first.path, first.message].filter(Boolean).join(' · ');
}

const FAILURE_TYPES = {
  schema_violations: 'The event or one of its entities does not match its schema.',
  enrichment_failures: 'An enrichment could not process the event.',
  tracker_protocol_violations: 'The request does not follow the Snowplow tracker protocol.',
  adapter_failures: 'The request could not be read as events of its vendor.',
  size_violation: 'The request is larger than the collector accepts.',
  collector_payload_format_violation: 'The raw request could not be decoded.',
};

function renderFailure(box, f) {
  box.append(el('h3', {}, 'Why it failed'));
  box.append(el('p', { class: 'kind' }, FAILURE_TYPES[f.failureType] || f.failureType || 'The event failed.', ' ', el('code', {}, f.failureType || '')));
  for (const line of explain(f)) {
    const dl = el('dl', {});
    if (line.schema) dl.append(el('dt', {}, 'Schema'), el('dd', {}, el('code', {}, line.schema)));
    if (line.path) dl.append(el('dt', {}, 'Where'), el('dd', {}, el('code', {}, line.path)));
    if (line.value !== undefined && line.value !== null) dl.append(el('dt', {}, 'Value'), el('dd', {}, el('code', {}, display(line.value))));
    if (line.message) dl.append(el('dt', {}, 'Problem'), el('dd', { class: 'message' }, line.message));
    box.append(dl);
  }
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = el('textarea', { class: 'offscreen' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  toast('Copied');
}

let toastTimer;
function toast(msg) {
  const t = $('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 1600);
}

// ---- filters and columns ----

function renderFilters() {
  const box = $('filters');
  box.replaceChildren();
  state.filters.forEach((f, i) => {
    box.append(el('span', { class: 'chip' },
      el('b', {}, f.column), ' is ', f.values.join(' or '),
      el('button', {
        type: 'button', class: 'chip-x', 'aria-label': 'Remove filter on ' + f.column,
        onclick: () => { state.filters.splice(i, 1); state.page = 1; refresh(); },
      }, '✕')));
  });
  box.hidden = state.filters.length === 0;
}

let allColumns = [];

async function loadColumns() {
  allColumns = await api('/micro/columns');
  const dl = $('filter-columns');
  dl.replaceChildren(...allColumns.filter((c) => !isComplex(c) && !c.endsWith('_tstamp')).map((c) => el('option', { value: c })));
}

function renderColumnList() {
  const q = $('column-search').value.trim().toLowerCase();
  const list = $('column-list');
  list.replaceChildren();
  const names = Array.from(new Set(state.cols.concat(allColumns)));
  for (const c of names) {
    if (q && !c.toLowerCase().includes(q)) continue;
    const id = 'col-' + c;
    const box = el('input', { type: 'checkbox', id, checked: state.cols.includes(c) });
    box.addEventListener('change', () => {
      if (box.checked) state.cols.push(c);
      else state.cols = state.cols.filter((x) => x !== c);
      refresh();
    });
    list.append(el('li', { class: c.includes('.') ? 'field' : null }, box, el('label', { for: id }, c)));
  }
}

async function suggestValues() {
  const col = $('filter-column').value.trim();
  const dl = $('filter-suggest');
  dl.replaceChildren();
  if (!col || isComplex(col)) return;
  try {
    const stats = await api('/micro/columnStats', { columns: [col] });
    const s = stats[col];
    if (s && s.values) dl.replaceChildren(...s.values.map((v) => el('option', { value: v })));
  } catch (e) { /* no suggestions */ }
}

// ---- schemas ----

let schemaURIs = [];

async function loadSchemas() {
  try {
    const res = await request('/api/schemas');
    schemaURIs = res.ok ? await res.json() : [];
  } catch { schemaURIs = []; }
  renderSchemas();
  if (state.schema) openSchema(state.schema);
}

function renderSchemas() {
  const q = $('schema-search').value.trim().toLowerCase();
  const list = $('schema-list');
  list.replaceChildren();
  const shown = schemaURIs.filter((u) => !q || String(u).toLowerCase().includes(q));
  for (const uri of shown) {
    const m = /^iglu:([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(String(uri));
    if (!m) continue;
    list.append(el('li', { tabindex: 0, onclick: () => openSchema(uri), onkeydown: (e) => { if (e.key === 'Enter') openSchema(uri); } },
      el('span', { class: 'vendor' }, m[1]), el('span', { class: 'name' }, m[2]), el('span', { class: 'version' }, m[4])));
  }
  $('schema-count').textContent = `${shown.length} of ${schemaURIs.length} schemas known to the resolver`;
}

async function openSchema(uri) {
  const m = /^iglu:([^/]+)\/([^/]+)\/jsonschema\/([^/]+)$/.exec(uri);
  if (!m) return;
  state.schema = uri;
  writeURL();
  try {
    const schema = await api(`/micro/iglu/${encodeURIComponent(m[1])}/${encodeURIComponent(m[2])}/jsonschema/${encodeURIComponent(m[3])}`);
    showPanel(uri, schema, null);
  } catch (e) {
    showPanel(uri, { error: String(e.message) }, null);
  }
}

// ---- refresh, live updates ----

let inflight = null;
let again = false;

async function refresh() {
  writeURL();
  renderFilters();
  if (state.view !== 'events') return;
  if (inflight) { again = true; return inflight; }
  inflight = (async () => {
    try {
      const view = location.search;
      await Promise.all([loadEvents(), loadTimeline()]);
      // Tells tests (and anyone watching) which view the table shows.
      document.body.dataset.rendered = view;
      document.body.classList.remove('offline');
    } catch (e) {
      document.body.classList.add('offline');
      toast(String(e.message).slice(0, 200));
    }
  })();
  await inflight;
  inflight = null;
  if (again) { again = false; return refresh(); }
}

let live = true;
let pending = null;

// connect follows /micro/stream (server-sent events) with fetch, which can send the API
// key, and reconnects when it ends.
async function connect() {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10000)) {
    try {
      const res = await request('/micro/stream', { headers: { Accept: 'text/event-stream' } });
      if (!res.ok || !res.body) throw new Error('stream: ' + res.status);
      document.body.classList.remove('offline');
      delay = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const message = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = message.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) onCounts(JSON.parse(data));
        }
      }
    } catch (e) { /* reconnect below */ }
    document.body.classList.add('offline');
    await new Promise((r) => setTimeout(r, delay));
  }
}

function onCounts(c) {
  $('count-good').textContent = c.good;
  $('count-bad').textContent = c.bad;
  if (!live) return;
  clearTimeout(pending);
  pending = setTimeout(() => { refresh(); if (!$('column-picker').hidden) loadColumns().then(renderColumnList); }, 60);
}

// ---- wiring ----

function syncControls() {
  for (const b of document.querySelectorAll('[data-valid]')) b.classList.toggle('active', b.dataset.valid === state.valid);
  $('range').value = state.range;
  $('custom-range').hidden = state.range !== 'custom';
  $('range-start').value = state.from;
  $('range-end').value = state.to;
  $('page-size').value = String(state.size);
  $('view-events').hidden = state.view !== 'events';
  $('view-schemas').hidden = state.view !== 'schemas';
  $('tab-events').classList.toggle('active', state.view === 'events');
  $('tab-schemas').classList.toggle('active', state.view === 'schemas');
  document.title = 'snowplow-mini · ' + state.view;
}

async function openSharedEvent() {
  if (!state.ev) return;
  let i = pageEvents.findIndex((e) => e.event_id === state.ev);
  if (i < 0) {
    const res = await api('/micro/events', { page: 1, pageSize: 1, filters: [{ column: 'event_id', values: [state.ev] }] });
    if (res.events.length === 0) { toast('That event is no longer stored'); return; }
    pageEvents = [res.events[0]].concat(pageEvents);
    i = 0;
  }
  openEvent(i);
}

function wire() {
  for (const b of document.querySelectorAll('[data-valid]')) {
    b.addEventListener('click', () => { state.valid = b.dataset.valid; state.page = 1; syncControls(); refresh(); });
  }
  for (const t of document.querySelectorAll('.tab')) {
    t.addEventListener('click', (e) => {
      e.preventDefault();
      state.view = t.dataset.view;
      syncControls();
      writeURL();
      if (state.view === 'schemas') loadSchemas(); else refresh();
    });
  }
  $('range').addEventListener('change', () => {
    state.range = $('range').value;
    if (state.range === 'custom' && !state.from) {
      state.from = new Date(Date.now() - 3600e3).toISOString().slice(0, 19);
      state.to = new Date().toISOString().slice(0, 19);
    }
    state.page = 1;
    syncControls();
    refresh();
  });
  for (const id of ['range-start', 'range-end']) {
    $(id).addEventListener('change', () => { state.from = $('range-start').value; state.to = $('range-end').value; state.page = 1; refresh(); });
  }
  $('page-size').addEventListener('change', () => { state.size = parseInt($('page-size').value, 10); state.page = 1; refresh(); });
  $('prev').addEventListener('click', () => { if (state.page > 1) { state.page--; refresh(); } });
  $('next').addEventListener('click', () => { if (state.page < totalPages) { state.page++; refresh(); } });
  $('add-filter').addEventListener('click', async () => {
    $('filter-editor').hidden = false;
    $('filter-column').focus();
    if (allColumns.length === 0) await loadColumns();
  });
  $('filter-column').addEventListener('change', suggestValues);
  $('filter-cancel').addEventListener('click', () => { $('filter-editor').hidden = true; });
  $('filter-editor').addEventListener('submit', (e) => {
    e.preventDefault();
    const column = $('filter-column').value.trim();
    const values = $('filter-values').value.split(',').map((v) => v.trim()).filter(Boolean);
    if (!column || values.length === 0) return;
    state.filters.push({ column, values });
    $('filter-editor').reset();
    $('filter-editor').hidden = true;
    state.page = 1;
    refresh();
  });
  $('pick-columns').addEventListener('click', async () => {
    const p = $('column-picker');
    p.hidden = !p.hidden;
    if (!p.hidden) { await loadColumns(); renderColumnList(); $('column-search').focus(); }
  });
  $('column-search').addEventListener('input', renderColumnList);
  $('columns-done').addEventListener('click', () => { $('column-picker').hidden = true; });
  $('columns-default').addEventListener('click', () => { state.cols = DEFAULT_COLUMNS.slice(); renderColumnList(); refresh(); });
  $('share').addEventListener('click', () => { writeURL(); copyText(location.href); });
  $('panel-close').addEventListener('click', closePanel);
  $('panel-copy').addEventListener('click', () => copyText(panelJSON));
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !$('panel').hidden) closePanel(); });
  $('live').addEventListener('click', () => {
    live = !live;
    $('live').classList.toggle('on', live);
    $('live').textContent = live ? 'Live' : 'Paused';
    if (live) refresh();
  });
  $('reset').addEventListener('click', async () => {
    if (!confirm('Delete every stored event and failed event?')) return;
    await request('/micro/reset', { method: 'POST' });
    state.page = 1;
    refresh();
  });
  $('schema-search').addEventListener('input', renderSchemas);
}

async function main() {
  readURL();
  wire();
  syncControls();
  connect();
  if (state.view === 'schemas') {
    await loadSchemas();
  } else {
    await refresh();
    await openSharedEvent();
  }
  document.body.dataset.ready = 'true';
}

main();
