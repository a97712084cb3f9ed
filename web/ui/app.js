// The snowplow-mini event viewer: polls the Micro API and lists good and bad events,
// newest first. Everything from the server is inserted as text, never as HTML.
'use strict';

(() => {
  const LIMIT = 200;
  const $ = (id) => document.getElementById(id);
  const refreshMs = Number(document.body.dataset.refresh) || 2000;
  const state = { signature: { good: '', bad: '' }, open: new Set(), busy: false };

  function scope() {
    const q = new URLSearchParams();
    const app = $('f-app').value.trim();
    if (app) q.set('app_id', app);
    return q;
  }

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

  async function getJSON(url, options = {}, retried = false) {
    const key = sessionStorage.getItem(KEY);
    const headers = Object.assign({}, options.headers, key ? { 'X-API-Key': key } : {});
    const res = await fetch(url, Object.assign({}, options, { headers }));
    if (res.status === 401 && !retried && await askForKey()) return getJSON(url, options, true);
    if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  function status(text) { $('status').textContent = text; }

  function cell(cls, text) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text == null ? '' : String(text);
    span.title = span.textContent;
    return span;
  }

  function goodRow(ev) {
    const e = ev.event || {};
    return {
      key: e.event_id || JSON.stringify(ev.rawEvent),
      cells: [cell('time', e.collector_tstamp), cell('type', ev.eventType),
        cell('schema', ev.schema), cell('app', e.app_id)],
      body: ev,
    };
  }

  function badRow(ev) {
    let row = null;
    try { row = JSON.parse(ev.errors[1]); } catch (_) { /* not a bad row: shown as text */ }
    const data = (row && row.data) || {};
    const kind = row && typeof row.schema === 'string' ? row.schema.split('/')[1] : 'unrecognised';
    const params = (ev.rawEvent && ev.rawEvent.parameters) || {};
    return {
      key: ev.errors.join('\n'),
      cells: [cell('time', data.failure && data.failure.timestamp), cell('type', kind),
        cell('schema', ev.errors[0]), cell('app', params.aid)],
      body: row ? { ...ev, errors: [ev.errors[0], row] } : ev,
    };
  }

  function render(id, events, toRow) {
    const rows = events.map(toRow);
    const signature = rows.map((r) => r.key).join('\u0000');
    const section = $(id);
    section.querySelector('.empty').hidden = rows.length > 0;
    if (signature === state.signature[id]) return;
    state.signature[id] = signature;
    const list = section.querySelector('ol');
    list.replaceChildren(...rows.map((r) => {
      const li = document.createElement('li');
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.append(...r.cells);
      details.append(summary);
      details.open = state.open.has(r.key);
      const fill = () => {
        if (details.open && !details.querySelector('pre')) {
          const pre = document.createElement('pre');
          pre.textContent = JSON.stringify(r.body, null, 2);
          details.append(pre);
        }
      };
      details.addEventListener('toggle', () => {
        if (details.open) state.open.add(r.key); else state.open.delete(r.key);
        fill();
      });
      fill();
      li.append(details);
      return li;
    }));
  }

  async function refresh() {
    if (state.busy) return;
    state.busy = true;
    try {
      const q = scope();
      const good = scope();
      good.set('limit', LIMIT);
      const type = $('f-type').value;
      if (type) good.set('event_type', type);
      const bad = scope();
      bad.set('limit', LIMIT);
      const [all, goodEvents, badEvents] = await Promise.all([
        getJSON(`/micro/all?${q}`), getJSON(`/micro/good?${good}`), getJSON(`/micro/bad?${bad}`)]);
      for (const k of ['good', 'bad']) {
        $(`count-${k}`).textContent = all[k];
        $(`tab-count-${k}`).textContent = all[k];
      }
      render('good', goodEvents, goodRow);
      render('bad', badEvents, badRow);
      status(`updated ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      status(err.message);
    } finally {
      state.busy = false;
    }
  }

  function selectTab(name) {
    for (const k of ['good', 'bad']) {
      $(`tab-${k}`).setAttribute('aria-selected', String(k === name));
      $(k).hidden = k !== name;
    }
  }

  async function reset() {
    const q = scope();
    const what = q.has('app_id') ? `the events of app_id "${q.get('app_id')}"` : 'all events';
    if (!window.confirm(`Delete ${what}?`)) return;
    try {
      await getJSON(`/micro/reset?${q}`, { method: 'POST' });
    } catch (err) {
      status(err.message);
    }
    refresh();
  }

  $('tab-good').addEventListener('click', () => selectTab('good'));
  $('tab-bad').addEventListener('click', () => selectTab('bad'));
  $('refresh').addEventListener('click', refresh);
  $('reset').addEventListener('click', reset);
  $('f-type').addEventListener('change', refresh);
  $('f-app').addEventListener('input', refresh);
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); refresh(); });
  setInterval(() => {
    if ($('f-auto').checked && !document.hidden) refresh();
  }, refreshMs);
  refresh();
})();
