/*
 * candidate.js - one candidate (/candidates/ID): its summary, its
 * detections on a frequency-time plot (one colour per observation, time
 * from each dataset's start), its observations and the detections' table.
 */
'use strict';

(() => {
  const {el, api, fill, num, mhz, table, chart, link, once} = OZ;
  const COLORS = ['37, 99, 235', '220, 38, 38', '22, 163, 74', '202, 138, 4', '147, 51, 234', '8, 145, 178'];

  function summary(c) {
    const dl = el('dl', {class: 'details'});
    const rows = [
      ['Type', c.type], ['Score', c.score.toPrecision(4)], ['RFI', c.rfi || 'no'],
      ['Frequency (topocentric)', mhz(c.freq_hz) + ' (' + c.freq_hz.toFixed(3) + ' Hz)'],
      ['Frequency (barycentric)', c.freq_bary_hz === null ? '-' : c.freq_bary_hz.toFixed(3) + ' Hz'],
      ['Chirp rate', c.chirp_hz_s.toFixed(4) + ' Hz/s'],
      ['RA, Dec', c.ra_deg === null ? '-' : c.ra_deg.toFixed(4) + ', ' + c.dec_deg.toFixed(4) + ' deg'],
      ['HEALPix pixel', c.pixel === null ? '-' : String(c.pixel)],
      ['Observations', num(c.observations)], ['Detections', num(c.detections)],
      ['Strongest in', c.dataset + ' at ' + (c.time_utc || c.time_s.toFixed(2) + ' s')], ['Key', c.key],
    ];
    for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
    fill('detail', dl);
  }

  function plot(c) {
    const names = c.datasets.map((d) => d.dataset);
    const sets = names.map((name, i) => {
      const sigs = c.signals.filter((s) => s.dataset === name);
      const col = 'rgba(' + COLORS[i % COLORS.length] + ', 0.75)';
      return {label: name, data: sigs.map((s) => ({x: s.time_s, y: s.freq_hz, s: s})),
              backgroundColor: col, borderColor: col, pointRadius: 5};
    });
    chart('plot', {
      type: 'scatter',
      data: {datasets: sets},
      options: {
        plugins: {tooltip: {callbacks: {label: (x) => x.raw.s.type + ' FFT ' + x.raw.s.fft_len + ' ' +
          mhz(x.raw.s.freq_hz) + ' at ' + x.raw.s.time_s.toFixed(2) + ' s, power ' + x.raw.s.power.toFixed(1)}}},
        scales: {
          x: {title: {display: true, text: "time from its dataset's start (s)"}},
          y: {title: {display: true, text: 'frequency (MHz)'}, ticks: {callback: (v) => (v / 1e6).toFixed(6)}},
        },
      },
    });
  }

  once(async () => {
    const id = location.pathname.split('/').pop();
    const c = await api('/api/v1/candidates/' + encodeURIComponent(id));
    document.title = 'Candidate ' + c.id + ' - Ozma';
    fill('title', 'Candidate ' + c.id + (c.rfi ? ' (RFI: ' + c.rfi + ')' : ''));
    summary(c);
    plot(c);
    fill('observations', table([
      {label: 'Dataset', cell: (o) => link('/signals?dataset=' + encodeURIComponent(o.dataset), o.dataset)},
      {label: 'Detections', num: true, cell: (o) => num(o.detections)},
      {label: 'First (UTC)', cell: (o) => o.time_utc || '-'},
    ], c.datasets));
    fill('table', table([
      {label: 'Signal', num: true, cell: (s) => String(s.id)},
      {label: 'Type', cell: (s) => s.type},
      {label: 'Frequency', num: true, cell: (s) => mhz(s.freq_hz)},
      {label: 'Chirp (Hz/s)', num: true, cell: (s) => s.chirp_hz_s.toFixed(3)},
      {label: 'Time (s)', num: true, cell: (s) => s.time_s.toFixed(2)},
      {label: 'Power', num: true, cell: (s) => s.power.toFixed(1)},
      {label: 'Score', num: true, cell: (s) => s.score.toFixed(2)},
      {label: 'FFT', num: true, cell: (s) => num(s.fft_len)},
      {label: 'Unit', cell: (s) => OZ.unitLink(s.unit_id)},
    ], c.signals));
    document.body.dataset.detections = String(c.signals.length);
  });
})();
