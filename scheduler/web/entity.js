/*
 * entity.js - one account (/users/ID), host (/hosts/ID) or team
 * (/teams/ID): totals, credit per day, the account's hosts or the team's
 * members, and recent results with their validation state.
 */
'use strict';

(() => {
  const {el, api, fill, num, credit, time, ago, card, table, link, chart, resultState, once} = OZ;
  const [, kind, idText] = location.pathname.split('/'); /* users|hosts|teams, ID */
  const id = parseInt(idText, 10);
  const noun = {users: 'Account', hosts: 'Host', teams: 'Team'}[kind];

  function about(pairs) {
    const dl = el('dl', {class: 'details'});
    for (const [k, v] of pairs) dl.append(el('dt', {}, k), el('dd', {}, v));
    fill('about', dl);
  }

  /* Credit per day, and the running total beside it: what was earned
   * before the window, then each day added. */
  function creditChart(hist, total) {
    const labels = hist.days.map((d) => d.date.slice(5));
    const per = hist.days.map((d) => d.credit);
    chart('credit', {
      type: 'bar',
      data: {labels: labels,
             datasets: [{label: 'credit per day', data: per, backgroundColor: 'rgba(42,157,143,0.8)'}]},
      options: {plugins: {legend: {display: false}},
                scales: {y: {beginAtZero: true, title: {display: true, text: 'credit per UTC day'}}}},
    });
    let run = Math.max(0, total - per.reduce((a, b) => a + b, 0));
    const cum = per.map((c) => (run += c));
    chart('credit-cumulative', {
      type: 'line',
      data: {labels: labels,
             datasets: [{label: 'cumulative credit', data: cum, borderColor: 'rgba(69,123,157,1)',
                         backgroundColor: 'rgba(69,123,157,0.2)', fill: true, pointRadius: 0}]},
      options: {plugins: {legend: {display: false}},
                scales: {y: {beginAtZero: true, title: {display: true, text: 'credit, in all'}}}},
    });
  }

  function results(list) {
    fill('results', table([
      {label: 'Result', num: true, cell: (r) => String(r.replica_id)},
      {label: 'Unit', cell: (r) => OZ.unitLink(r.unit_id)},
      {label: 'Dataset', cell: (r) => r.dataset},
      {label: 'Host', cell: (r) => link('/hosts/' + r.host_id, r.host_name)},
      {label: 'Sent', cell: (r) => time(r.sent)},
      {label: 'Returned', cell: (r) => time(r.received)},
      {label: 'State', cell: (r) => { const [t, c] = resultState(r); return el('span', {class: c}, t); }},
      {label: 'Credit', num: true, cell: (r) => r.credit ? credit(r.credit) : '-'},
    ], list, {empty: 'No results yet.'}));
  }

  function totals(o) {
    fill('cards', card('total credit', credit(o.total_credit)),
         card('recent average credit', credit(o.recent_credit)));
  }

  async function user() {
    const [u, hist, res] = await Promise.all([
      api('/api/v1/users/' + id), api('/api/v1/users/' + id + '/credit?days=30'),
      api('/api/v1/users/' + id + '/results?limit=20')]);
    let team = '-';
    if (u.team_id) {
      const t = await api('/api/v1/teams/' + u.team_id);
      team = link('/teams/' + t.id, t.name);
    }
    return [u, hist, res, [['Team', team], ['Joined', time(u.created)], ['Hosts', num(u.hosts.length)]],
            'Hosts', table([
              {label: 'Host', cell: (h) => link('/hosts/' + h.id, h.name)},
              {label: 'Total credit', num: true, cell: (h) => credit(h.total_credit)},
              {label: 'Recent average', num: true, cell: (h) => credit(h.recent_credit)},
            ], u.hosts, {empty: 'No host attached yet.'})];
  }

  async function host() {
    const [h, hist, res] = await Promise.all([
      api('/api/v1/hosts/' + id), api('/api/v1/hosts/' + id + '/credit?days=30'),
      api('/api/v1/hosts/' + id + '/results?limit=20')]);
    const owner = await api('/api/v1/users/' + h.user_id);
    return [h, hist, res, [
      ['Owner', link('/users/' + owner.id, owner.name)], ['Operating system', h.os],
      ['CPUs', num(h.ncpus)], ['Speed', (h.flops / 1e9).toFixed(2) + ' GFLOPS per core'],
      ['Last contact', ago(h.last_rpc)], ['Results in progress', num(h.in_progress)],
      ['Registered', time(h.created)]], null, null];
  }

  async function team() {
    const [t, hist] = await Promise.all([
      api('/api/v1/teams/' + id), api('/api/v1/teams/' + id + '/credit?days=30')]);
    return [t, hist, null, [['Description', t.description || '-'], ['Members', num(t.nusers)]],
            'Members', table([
              {label: 'Account', cell: (u) => link('/users/' + u.id, u.name)},
              {label: 'Total credit', num: true, cell: (u) => credit(u.total_credit)},
              {label: 'Recent average', num: true, cell: (u) => credit(u.recent_credit)},
            ], t.users, {empty: 'No members.'})];
  }

  async function load() {
    if (!noun || !(id > 0)) throw new Error(location.pathname + ': not a page');
    const [o, hist, res, facts, listTitle, list] =
      await ({users: user, hosts: host, teams: team}[kind])();
    document.getElementById('title').textContent = noun + ': ' + o.name;
    document.title = noun + ' ' + o.name + ' - Ozma';
    totals(o);
    about(facts);
    creditChart(hist, o.total_credit);
    document.getElementById('list-title').textContent = listTitle || '';
    fill('list', list);
    if (res) results(res.results);
    else {
      document.getElementById('results-title').hidden = true;
      document.getElementById('results').hidden = true;
    }
  }
  once(load);
})();
