/*
 * home.js - the home page: totals, each dataset's progress, results
 * returned over time and the newest signals.  Refreshes every 5 seconds.
 */
'use strict';

(() => {
  const {el, api, fill, num, credit, time, mhz, card, table, link, chart, every} = OZ;
  const STATES = ['validated', 'validating', 'in_progress', 'unsent', 'error'];

  function progressBar(d) {
    const bar = el('div', {class: 'bar', role: 'img',
                           'aria-label': d.validated + ' of ' + d.units + ' units validated'});
    for (const s of STATES) {
      if (!d[s] || !d.units) continue;
      const part = el('span', {class: s, title: s.replace('_', ' ') + ': ' + d[s]});
      part.style.width = (100 * d[s] / d.units) + '%'; /* CSSOM: allowed by the CSP */
      bar.append(part);
    }
    return bar;
  }

  function datasets(list) {
    fill('datasets', table([
      {label: 'Dataset', cell: (d) => link('/signals?dataset=' + encodeURIComponent(d.name), d.name)},
      {label: 'Progress', cell: progressBar},
      {label: 'Units', num: true, cell: (d) => num(d.units)},
      {label: 'Validated', num: true, cell: (d) => num(d.validated)},
      {label: 'Validating', num: true, cell: (d) => num(d.validating)},
      {label: 'In progress', num: true, cell: (d) => num(d.in_progress)},
      {label: 'Unsent', num: true, cell: (d) => num(d.unsent)},
      {label: 'Error', num: true, cell: (d) => num(d.error)},
      {label: 'Signals', num: true, cell: (d) => num(d.signals)},
    ], list, {empty: 'No dataset is loaded yet (ozma-server load).'}));
  }

  function throughput(t) {
    const labels = t.buckets.map((b) => {
      const d = new Date(b.t * 1000).toISOString();
      return t.bucket_s >= 86400 ? d.slice(5, 10) : t.bucket_s >= 3600 ? d.slice(5, 13).replace('T', ' ') + 'h'
                                                                         : d.slice(11, 16);
    });
    chart('throughput', {
      type: 'bar',
      data: {labels: labels, datasets: [{label: 'results returned', data: t.buckets.map((b) => b.results),
                                         backgroundColor: 'rgba(29,53,87,0.75)'}]},
      options: {plugins: {legend: {display: false}},
                scales: {y: {beginAtZero: true, title: {display: true, text: 'results (UTC)'}}}},
    });
  }

  function latest(list) {
    fill('signals', table([
      {label: 'Type', cell: (s) => s.type},
      {label: 'Frequency', num: true, cell: (s) => mhz(s.freq_hz)},
      {label: 'Chirp (Hz/s)', num: true, cell: (s) => s.chirp_hz_s.toFixed(3)},
      {label: 'Time', cell: (s) => s.time_utc || s.time_s.toFixed(2) + ' s'},
      {label: 'Score', num: true, cell: (s) => s.score.toFixed(2)},
      {label: 'Dataset', cell: (s) => link('/signals?dataset=' + encodeURIComponent(s.dataset), s.dataset)},
      {label: 'Unit', cell: (s) => OZ.unitLink(s.unit_id)},
    ], list, {empty: 'No signal has been found yet.'}));
  }

  const range = document.getElementById('range');
  async function load() {
    const [bucket, n] = range.value.split(',');
    const [status, ds, tp, sig] = await Promise.all([
      api('/api/v1/status'), api('/api/v1/datasets?limit=500'),
      api('/api/v1/throughput?bucket=' + bucket + '&n=' + n), api('/api/v1/signals/latest?limit=10'),
    ]);
    document.getElementById('title').textContent = status.name;
    document.title = status.name + ' - Ozma';
    fill('cards',
         card('units validated', num(status.units.validated) + ' / ' + num(status.units.total)),
         card('units in error', num(status.units.error)),
         card('active hosts (24 h)', num(status.hosts_active)),
         card('results in the last hour', num(status.results.last_hour)),
         card('accounts', num(status.accounts)),
         card('signals found', num(status.signals)),
         card('credit granted', credit(status.credit_total)));
    datasets(ds.datasets);
    throughput(tp);
    latest(sig.signals);
  }
  range.addEventListener('change', () => every(0, load));
  document.getElementById('range-form').addEventListener('submit', (e) => e.preventDefault());
  every(5, load);
})();
