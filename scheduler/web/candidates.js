/*
 * candidates.js - the candidates page: a sky map (right ascension against
 * declination, each candidate a point sized by its score, RFI in grey) and
 * the ranked table, with dataset and RFI filters kept in the page's URL.
 * Candidates are fetched a page (500) at a time, up to MAX.
 */
'use strict';

(() => {
  const {fill, num, mhz, table, chart, link, pages, filterPage} = OZ;
  const MAX = 5000;
  const fields = {dataset: 'f-dataset', rfi: 'f-rfi'};

  /* Radius from the score, on a log scale between 3 and 14 pixels. */
  function radius(c, lo, hi) {
    const l = (x) => Math.log10(Math.max(x, 1e-3));
    return hi > lo ? 3 + 11 * (l(c.score) - l(lo)) / (l(hi) - l(lo)) : 8;
  }

  function skymap(list) {
    const placed = list.filter((c) => c.ra_deg !== null && c.dec_deg !== null);
    const scores = placed.map((c) => c.score);
    const lo = Math.min(...scores), hi = Math.max(...scores);
    const sets = [
      {label: 'candidates', list: placed.filter((c) => !c.rfi), color: 'rgba(37, 99, 235, 0.75)'},
      {label: 'RFI', list: placed.filter((c) => c.rfi), color: 'rgba(140, 140, 140, 0.45)'},
    ].map((s) => ({
      label: s.label, data: s.list.map((c) => ({x: c.ra_deg, y: c.dec_deg, c: c})),
      backgroundColor: s.color, borderColor: s.color,
      pointRadius: s.list.map((c) => radius(c, lo, hi)), pointHoverRadius: 14,
    }));
    chart('sky', {
      type: 'scatter',
      data: {datasets: sets},
      options: {
        onClick: (ev, items) => {
          if (items.length) location.href = '/candidates/' + sets[items[0].datasetIndex].data[items[0].index].c.id;
        },
        plugins: {tooltip: {callbacks: {label: (x) => '#' + x.raw.c.id + ' ' + x.raw.c.type + ' ' +
          mhz(x.raw.c.freq_hz) + ', score ' + x.raw.c.score.toPrecision(3) + (x.raw.c.rfi ? ' (RFI: ' + x.raw.c.rfi + ')' : '')}}},
        scales: {
          x: {min: 0, max: 360, reverse: true, title: {display: true, text: 'right ascension (degrees)'}},
          y: {min: -90, max: 90, title: {display: true, text: 'declination (degrees)'}},
        },
      },
    });
  }

  function tableOf(list) {
    const t = table([
      {label: '#', num: true, cell: (c) => link('/candidates/' + c.id, String(c.id))},
      {label: 'Type', cell: (c) => c.type},
      {label: 'Score', num: true, cell: (c) => c.score.toPrecision(4)},
      {label: 'RFI', cell: (c) => c.rfi || ''},
      {label: 'Frequency', num: true, cell: (c) => mhz(c.freq_hz)},
      {label: 'Barycentric', num: true, cell: (c) => c.freq_bary_hz === null ? '-' : mhz(c.freq_bary_hz)},
      {label: 'Chirp (Hz/s)', num: true, cell: (c) => c.chirp_hz_s.toFixed(3)},
      {label: 'RA', num: true, cell: (c) => c.ra_deg === null ? '-' : c.ra_deg.toFixed(3)},
      {label: 'Dec', num: true, cell: (c) => c.dec_deg === null ? '-' : c.dec_deg.toFixed(3)},
      {label: 'Observations', num: true, cell: (c) => num(c.observations)},
      {label: 'Detections', num: true, cell: (c) => num(c.detections)},
    ], list, {empty: 'No candidate yet.'});
    t.querySelectorAll('tbody tr').forEach((tr, i) => { if (list[i] && list[i].rfi) tr.classList.add('muted'); });
    fill('table', t);
  }

  async function load() {
    const v = (id) => document.getElementById(id).value.trim();
    const q = new URLSearchParams({limit: '500', order: 'score'});
    if (v('f-dataset')) q.set('dataset', v('f-dataset'));
    if (v('f-rfi')) q.set('rfi', v('f-rfi'));
    const {items: all, more} = await pages('/api/v1/candidates?' + q, 'candidates', MAX);
    const rfi = all.filter((c) => c.rfi).length;
    document.getElementById('count').textContent = num(all.length) + ' candidate' +
      (all.length === 1 ? '' : 's') + ', ' + num(rfi) + ' flagged as RFI' + (more ? ' (the first ' + num(all.length) + ')' : '');
    document.body.dataset.candidates = String(all.length);
    skymap(all);
    tableOf(all);
  }

  filterPage(fields, load);
})();
