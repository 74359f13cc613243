/*
 * signals.js - the signal browser: the canonical signals of a dataset as a
 * frequency-time plot, one colour per type and opacity by score (within
 * its type), with filters (dataset, type, minimum score, frequency range)
 * kept in the page's URL, a table, and the details of the signal clicked.
 *
 * Signals are fetched a page (500) at a time, up to MAX_SIGNALS; the
 * frequency range is applied here, the rest by the API.
 */
'use strict';

(() => {
  const {el, fill, num, mhz, table, chart, link, typeColor, pages, filterPage} = OZ;
  const MAX_SIGNALS = 10000;
  const TABLE_ROWS = 500;
  const fields = {dataset: 'f-dataset', type: 'f-type', min_score: 'f-score', fmin: 'f-fmin', fmax: 'f-fmax'};
  let shown = [];

  function detail(s) {
    const dl = el('dl', {class: 'details'});
    const rows = [
      ['Type', s.type], ['Frequency', mhz(s.freq_hz) + ' (' + s.freq_hz.toFixed(3) + ' Hz)'],
      ['Chirp rate', s.chirp_hz_s.toFixed(4) + ' Hz/s'], ['Time', s.time_s.toFixed(3) + ' s from the start'],
      ['Time (UTC)', s.time_utc || '-'], ['Score', s.score.toFixed(3)], ['Power', s.power.toFixed(3)],
      ['FFT length', num(s.fft_len)], ['Period', s.period_s ? s.period_s.toFixed(4) + ' s' : '-'],
      ['Unit', OZ.unitLink(s.unit_id)], ['Dataset', s.dataset], ['Signal id', String(s.id)],
      ['Sky (RA, Dec)', s.ra_deg === null ? '-' : s.ra_deg.toFixed(3) + ', ' + s.dec_deg.toFixed(3)],
      ['Barycentric frequency', s.freq_bary_hz === null ? '-' : s.freq_bary_hz.toFixed(3) + ' Hz'],
      ['Candidate', s.candidate_id ? link('/candidates/' + s.candidate_id, '#' + s.candidate_id) : '-'],
    ];
    for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
    fill('detail', el('h2', {}, 'Signal ' + s.id), dl);
    document.querySelectorAll('#table tr.selected').forEach((tr) => tr.classList.remove('selected'));
    const tr = document.querySelector('#table tr[data-id="' + s.id + '"]');
    if (tr) tr.classList.add('selected');
  }

  /* One scatter dataset per type; each point's opacity grows with its
   * score's rank among the signals of that type. */
  function plot(list) {
    const byType = new Map();
    for (const s of list) {
      if (!byType.has(s.type)) byType.set(s.type, []);
      byType.get(s.type).push(s);
    }
    const datasets = [];
    for (const [type, sigs] of byType) {
      const scores = sigs.map((s) => s.score).sort((a, b) => a - b);
      const alpha = (s) => sigs.length < 2 ? 0.9
        : 0.3 + 0.7 * scores.indexOf(s.score) / (sigs.length - 1);
      datasets.push({
        label: type, data: sigs.map((s) => ({x: s.time_s, y: s.freq_hz, s: s})),
        backgroundColor: sigs.map((s) => typeColor(type, alpha(s))),
        borderColor: typeColor(type), pointRadius: 5, pointHoverRadius: 8,
      });
    }
    chart('plot', {
      type: 'scatter',
      data: {datasets: datasets},
      options: {
        onClick: (ev, items) => { if (items.length) detail(datasets[items[0].datasetIndex].data[items[0].index].s); },
        plugins: {tooltip: {callbacks: {label: (c) => c.raw.s.type + ' ' + mhz(c.raw.s.freq_hz) + ' at ' +
                                                      c.raw.s.time_s.toFixed(2) + ' s, score ' + c.raw.s.score.toFixed(2)}}},
        scales: {
          x: {title: {display: true, text: 'time from the dataset start (s)'}},
          y: {title: {display: true, text: 'frequency (MHz)'}, ticks: {callback: (v) => (v / 1e6).toFixed(4)}},
        },
      },
    });
  }

  function tableOf(list) {
    const t = table([
      {label: 'Type', cell: (s) => s.type},
      {label: 'Frequency', num: true, cell: (s) => mhz(s.freq_hz)},
      {label: 'Chirp (Hz/s)', num: true, cell: (s) => s.chirp_hz_s.toFixed(3)},
      {label: 'Time (s)', num: true, cell: (s) => s.time_s.toFixed(2)},
      {label: 'Score', num: true, cell: (s) => s.score.toFixed(2)},
      {label: 'FFT', num: true, cell: (s) => num(s.fft_len)},
      {label: 'Unit', cell: (s) => OZ.unitLink(s.unit_id)},
      {label: 'Candidate', num: true, cell: (s) => s.candidate_id ? link('/candidates/' + s.candidate_id, '#' + s.candidate_id) : '-'},
    ], list.slice(0, TABLE_ROWS), {onClick: detail, empty: 'No signal matches.'});
    t.querySelectorAll('tbody tr').forEach((tr, i) => { if (list[i]) tr.dataset.id = list[i].id; });
    fill('table', t);
  }

  async function load() {
    const v = (id) => document.getElementById(id).value.trim();
    const q = new URLSearchParams({limit: '500'});
    if (v('f-dataset')) q.set('dataset', v('f-dataset'));
    if (v('f-type')) q.set('type', v('f-type'));
    if (v('f-score')) q.set('min_score', v('f-score'));
    const fmin = v('f-fmin') ? parseFloat(v('f-fmin')) * 1e6 : -Infinity;
    const fmax = v('f-fmax') ? parseFloat(v('f-fmax')) * 1e6 : Infinity;
    const {items: all, more} = await pages('/api/v1/signals?' + q, 'signals', MAX_SIGNALS);
    shown = all.filter((s) => s.freq_hz >= fmin && s.freq_hz <= fmax);
    document.getElementById('count').textContent =
      num(shown.length) + ' signal' + (shown.length === 1 ? '' : 's') +
      (more ? ' (the first ' + num(all.length) + ' fetched)' : '') +
      (shown.length > TABLE_ROWS ? '; the table lists the first ' + TABLE_ROWS : '');
    document.body.dataset.signals = String(shown.length);
    plot(shown);
    const filtered = [...new URLSearchParams(location.search).values()].some((x) => x);
    document.getElementById('plot-empty').textContent = shown.length ? ''
      : filtered ? 'No signals match these filters yet.' : 'No signals yet.';
    tableOf(shown);
  }

  filterPage(fields, load);
})();
