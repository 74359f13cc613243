/*
 * app.js - what every Ozma page shares: fetching the JSON API, building
 * elements, formatting numbers and times, the error banner, and charts
 * with their text alternative.  The navigation and each page's first
 * screen come from the server (pages_render.h); the scripts redraw them.
 *
 * The one rule: text from the server (names, messages, anything a user
 * could have typed) reaches the page only as textContent, through el() -
 * never innerHTML - so `<script>` in an account name is shown, not run.
 * The server's Content-Security-Policy (no inline script, this origin only)
 * is the second wall.
 */
'use strict';

const OZ = (() => {
  /* el('a', {href: '/users/1', class: 'x'}, 'text', childNode, ...):
   * attributes are set with setAttribute (never 'style' or on* handlers),
   * string children become text nodes. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'style' || k.startsWith('on')) throw new Error('el: ' + k + ' is not allowed');
      e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  /* GET path as JSON; throws an Error naming the path and the server's
   * message for any failure (its `status` the HTTP status, when there was
   * an answer). */
  async function api(path) {
    let res;
    try {
      res = await fetch(path, {headers: {Accept: 'application/json'}});
    } catch (e) {
      throw new Error(path + ': the server cannot be reached (' + e.message + ')');
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      /* not JSON: reported below */
    }
    if (!res.ok) {
      const msg = body && body.error ? body.error.message : res.status + ' ' + res.statusText;
      const err = new Error(path + ': ' + msg);
      err.status = res.status;
      throw err;
    }
    if (body === null) throw new Error(path + ': the answer is not JSON');
    return body;
  }

  function showError(err) {
    const box = document.getElementById('error');
    box.textContent = String(err && err.message ? err.message : err);
    box.hidden = false;
  }

  function clearError() {
    document.getElementById('error').hidden = true;
  }

  /* Replaces a container's children. */
  function fill(id, ...children) {
    const box = typeof id === 'string' ? document.getElementById(id) : id;
    box.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
    return box;
  }

  const nf = new Intl.NumberFormat('en-US');
  function num(x) {
    return x === null || x === undefined ? '-' : nf.format(x);
  }
  function credit(x) {
    if (x === null || x === undefined) return '-';
    return x >= 100 ? nf.format(Math.round(x)) : x.toFixed(x >= 1 ? 2 : 4);
  }
  function time(unix) {
    if (!unix) return '-';
    return new Date(unix * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  }
  function ago(unix) {
    if (!unix) return 'never';
    const s = Math.max(0, Date.now() / 1000 - unix);
    if (s < 90) return Math.round(s) + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 129600) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' days ago';
  }
  function duration(s) {
    if (s < 120) return Math.round(s) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' days';
  }
  function bytes(n) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + ' ' + u[i];
  }
  /* A frequency in MHz with 1 Hz resolution: 1420.001500 MHz. */
  function mhz(hz) {
    return (hz / 1e6).toFixed(6) + ' MHz';
  }

  const TYPE_COLORS = {
    spike: [230, 57, 70], gaussian: [42, 157, 143], pulse: [233, 196, 106],
    triplet: [69, 123, 157], autocorr: [155, 93, 229], line: [244, 162, 97],
  };
  function typeColor(type, alpha) {
    const c = TYPE_COLORS[type] || [120, 120, 120];
    return 'rgba(' + c.join(',') + ',' + (alpha === undefined ? 1 : alpha) + ')';
  }

  /* A replica's state in words and its CSS class. */
  function resultState(r) {
    if (r.state === 'unsent') return ['Unsent', ''];
    if (r.state === 'in_progress') return ['In progress', 'state-pending'];
    switch (r.outcome) {
      case 'success':
        return {
          init: ['Pending validation', 'state-pending'], valid: ['Valid', 'state-valid'],
          invalid: ['Invalid', 'state-invalid'], inconclusive: ['Inconclusive', 'state-pending'],
        }[r.validate_state] || [r.validate_state, ''];
      case 'client_error': return ['Error', 'state-error'];
      case 'no_reply': return ['Timed out', 'state-error'];
      case 'didnt_need': return ['Not needed', ''];
      default: return [r.outcome, ''];
    }
  }

  /* A table: columns [{label, num?, cell: row => string | Node}]. */
  function table(columns, rows, opts) {
    const o = opts || {};
    const head = el('tr', {}, columns.map((c) => el('th', {class: c.num ? 'num' : null}, c.label)));
    const body = rows.map((row) => {
      const tr = el('tr', {}, columns.map((c) => el('td', {class: c.num ? 'num' : null}, c.cell(row))));
      if (o.onClick) {
        tr.classList.add('clickable');
        tr.tabIndex = 0;
        tr.addEventListener('click', () => o.onClick(row, tr));
        tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') o.onClick(row, tr); });
      }
      return tr;
    });
    if (!rows.length)
      body.push(el('tr', {}, el('td', {colspan: columns.length, class: 'muted'}, o.empty || 'Nothing yet.')));
    /* a wide table scrolls inside its box, not the page (phones) */
    return el('div', {class: 'scroll'}, el('table', {}, el('thead', {}, head), el('tbody', {}, body)));
  }

  function link(href, text) {
    return el('a', {href: href}, text);
  }

  /* A unit's id linked to its page. */
  function unitLink(name) {
    return link('/unit/' + encodeURIComponent(name), name);
  }

  function card(label, value) {
    return el('div', {class: 'card'}, el('div', {class: 'value'}, value), el('div', {class: 'label'}, label));
  }

  /* A chart's numbers in one sentence: its text alternative. */
  function describe(config) {
    const sets = config.data.datasets;
    if (config.type === 'scatter') {
      const n = sets.reduce((k, d) => k + d.data.length, 0);
      if (!n) return 'Nothing is plotted.';
      return n + ' point' + (n === 1 ? '' : 's') + ': ' +
        sets.filter((d) => d.data.length).map((d) => d.label + ' ' + d.data.length).join(', ') + '.';
    }
    const d = sets[0], labels = config.data.labels;
    if (!d || !d.data.length) return 'No data.';
    let hi = 0;
    d.data.forEach((v, i) => { if (v > d.data[hi]) hi = i; });
    const total = d.data.reduce((a, b) => a + b, 0);
    return labels.length + ' values of ' + d.label + ' from ' + labels[0] + ' to ' + labels[labels.length - 1] +
      (config.type === 'line' ? '; at the end ' + credit(d.data[d.data.length - 1])
                              : '; in all ' + credit(total) + ', the most ' + credit(d.data[hi]) + ' at ' + labels[hi]) + '.';
  }

  /* Writes describe(config) into #ID-text (made after the chart's box when
   * the page has none) and the canvas's fallback content. */
  function chartText(id, config) {
    const canvas = document.getElementById(id);
    let p = document.getElementById(id + '-text');
    if (!p) {
      p = el('p', {class: 'chart-text muted', id: id + '-text'});
      canvas.parentElement.after(p);
    }
    p.textContent = describe(config);
    canvas.textContent = p.textContent;
  }

  /* Draws (or redraws) a Chart.js chart in the canvas with this id; without
   * Chart.js (a build without libjs-chart.js) a note stands in for it. */
  function chart(id, config) {
    const canvas = document.getElementById(id);
    if (canvas && canvas.tagName === 'CANVAS') chartText(id, config);
    if (!window.Chart) {
      const note = el('p', {class: 'muted'}, 'Charts are unavailable: this server was built without Chart.js.');
      canvas.replaceWith(note);
      note.id = id;
      return null;
    }
    const old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    config.options = Object.assign({responsive: true, maintainAspectRatio: false, animation: false},
                                   config.options || {});
    return new window.Chart(canvas, config);
  }

  /* Runs load() now and every `seconds` while the page is visible; errors
   * go to the banner, success clears it. */
  function every(seconds, load) {
    let busy = false;
    const run = async () => {
      if (busy || document.hidden) return;
      busy = true;
      try {
        await load();
        clearError();
      } catch (e) {
        showError(e);
      } finally {
        busy = false;
      }
    };
    run();
    if (seconds) setInterval(run, seconds * 1000);
  }

  /* Runs load() once, errors to the banner. */
  function once(load) {
    every(0, load);
  }

  /* Every page of a list (path has its query; key names the list in each
   * answer), up to max items: {items, more}. */
  async function pages(path, key, max) {
    let items = [], after = null;
    do {
      const page = await api(path + (after ? '&after=' + encodeURIComponent(after) : ''));
      items = items.concat(page[key]);
      after = page.next;
    } while (after && items.length < max);
    return {items: items, more: Boolean(after)};
  }

  /* A filter page: the form's fields ({param: element id}) are read from the
   * page's URL now and written to it on submit, which runs load(); the
   * <select> f-dataset is filled with the datasets first, then load() runs. */
  function filterPage(fields, load) {
    const form = document.getElementById('filters');
    const q = new URLSearchParams(location.search);
    for (const [k, id] of Object.entries(fields)) document.getElementById(id).value = q.get(k) || '';
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const w = new URLSearchParams();
      for (const [k, id] of Object.entries(fields)) {
        const v = document.getElementById(id).value.trim();
        if (v) w.set(k, v);
      }
      history.replaceState(null, '', location.pathname + (w.toString() ? '?' + w : ''));
      load().then(clearError, showError);
    });
    once(async () => {
      const d = await api('/api/v1/datasets?limit=500');
      const sel = document.getElementById('f-dataset');
      const have = new Set([...sel.options].map((o) => o.value));
      for (const x of d.datasets) if (!have.has(x.name)) sel.append(el('option', {value: x.name}, x.name));
      sel.value = q.get('dataset') || '';
      await load();
    });
  }

  return {el, api, showError, clearError, fill, num, credit, time, ago, duration, bytes, mhz,
          typeColor, resultState, table, link, unitLink, card, chart, every, once, pages, filterPage};
})();
