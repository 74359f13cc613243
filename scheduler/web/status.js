/*
 * status.js - server status.  Everyone sees the public counts of
 * GET /api/v1/status: units, the background jobs' backlogs and the replicas
 * waiting and in progress.  An operator (the server's own machine, API.md)
 * also sees GET /api/v1/server: uptime and requests, each job's last pass
 * and failures, the database's path and size, and recent errors (the
 * server's own 5xx answers, hosts' error reports, units that ended in
 * error, units withheld because their file on the server is bad).  For
 * anyone else /api/v1/server is 403: the page says so once and asks no
 * more.  Refreshes every 5 seconds.
 */
'use strict';

(() => {
  const {el, api, fill, num, time, duration, bytes, card, table, every} = OZ;
  let operator = null; /* unknown until /api/v1/server answers */

  function health(n) {
    return n === 0 ? el('span', {class: 'ok'}, 'idle') : el('span', {class: 'busy'}, num(n) + ' waiting');
  }

  const JOBS = [
    ['transitioner', 'deadlines, reissues, units ending in error', 'transition'],
    ['validator', 'quorum, canonical result, credit', 'validate'],
    ['assimilator', 'canonical signals into the signals table', 'assimilate'],
  ];

  /* The operator's view, or null for anyone else. */
  async function server() {
    if (operator === false) return null;
    try {
      const s = await api('/api/v1/server');
      operator = true;
      return s;
    } catch (e) {
      if (e.status !== 403) throw e;
      operator = false;
      return null;
    }
  }

  function publicView(st) {
    document.getElementById('operator-only').hidden = false;
    document.getElementById('operator-sections').hidden = true;
    fill('cards',
         card('units validated', num(st.units.validated) + ' / ' + num(st.units.total)),
         card('units in error', num(st.units.error)),
         card('active hosts (24 h)', num(st.hosts_active)),
         card('results in the last hour', num(st.results.last_hour)),
         card('replicas per validated unit', st.adaptive.replicas_per_validated.toFixed(2)),
         card('trusted hosts', num(st.adaptive.trusted_hosts)),
         card('canaries found / missed', num(st.adaptive.canaries_found) + ' / ' +
              num(st.adaptive.canaries_missed)));
    fill('jobs', table([
      {label: 'Job', cell: (j) => j[0]},
      {label: 'What it does', cell: (j) => j[1]},
      {label: 'Backlog', cell: (j) => health(st.queues[j[2]])},
    ], JOBS));
    fill('queues', table([
      {label: 'What', cell: (q) => q[0]}, {label: 'Size', num: true, cell: (q) => q[1]},
    ], [
      ['replicas waiting to be sent', num(st.queues.unsent)],
      ['replicas in progress on hosts', num(st.queues.in_progress)],
    ]));
  }

  async function load() {
    const s = await server();
    if (!s) {
      publicView(await api('/api/v1/status'));
      return;
    }
    fill('cards',
         card('server', s.draining ? el('span', {class: 'bad'}, 'stopping') : el('span', {class: 'ok'}, 'serving')),
         card('up for', duration(s.uptime_s)),
         card('requests answered', num(s.requests)),
         card('requests in flight', num(s.in_flight)),
         card('HTTP threads', num(s.http_threads)),
         card('log level', s.log_level),
         card('replicas per validated unit', s.adaptive.replicas_per_validated.toFixed(2)),
         card('trusted hosts', num(s.adaptive.trusted_hosts)),
         card('canaries found / missed', num(s.adaptive.canaries_found) + ' / ' +
              num(s.adaptive.canaries_missed)),
         card('spot checks passed / failed', num(s.adaptive.spot_checks_passed) + ' / ' +
              num(s.adaptive.spot_checks_failed)));
    const jobs = s.jobs || {};
    const pass = (name) => {
      const h = jobs[name];
      if (!h || !h.last_pass) return 'not yet';
      return duration(Math.max(0, s.now - h.last_pass)) + ' ago (' + num(h.passes) + ' passes)';
    };
    const failures = (name) => {
      const h = jobs[name];
      if (!h || !h.errors) return '0';
      return num(h.errors) + ', last: ' + h.last_error;
    };
    fill('jobs', table([
      {label: 'Job', cell: (j) => j[0]},
      {label: 'What it does', cell: (j) => j[1]},
      {label: 'Backlog', cell: (j) => health(s.queues[j[2]])},
      {label: 'Last pass', cell: (j) => pass(j[0])},
      {label: 'Failed steps', cell: (j) => failures(j[0])},
    ], JOBS));
    fill('queues', table([
      {label: 'What', cell: (q) => q[0]}, {label: 'Size', num: true, cell: (q) => q[1]},
    ], [
      ['replicas waiting to be sent', num(s.queues.unsent)],
      ['replicas in progress on hosts', num(s.queues.in_progress)],
      ['database file (' + s.database.path + ')', bytes(s.database.bytes)],
      ['write-ahead log', bytes(s.database.wal_bytes)],
    ]));
    fill('server-errors', table([
      {label: 'Time', cell: (e) => time(e.time)}, {label: 'Status', num: true, cell: (e) => String(e.status)},
      {label: 'Request', cell: (e) => e.method + ' ' + e.path}, {label: 'Message', cell: (e) => e.message},
    ], s.errors, {empty: 'None since the server started.'}));
    fill('replica-errors', table([
      {label: 'Time', cell: (e) => time(e.time)}, {label: 'Result', num: true, cell: (e) => String(e.replica_id)},
      {label: 'Unit', cell: (e) => OZ.unitLink(e.unit_id)}, {label: 'Host', cell: (e) => OZ.link('/hosts/' + e.host_id, e.host_name)},
      {label: 'Message', cell: (e) => e.message},
    ], s.replica_errors, {empty: 'None.'}));
    fill('unit-errors', table([
      {label: 'Time', cell: (e) => time(e.time)}, {label: 'Unit', cell: (e) => OZ.unitLink(e.unit_id)},
      {label: 'Dataset', cell: (e) => e.dataset}, {label: 'Reason', cell: (e) => e.reason},
    ], s.unit_errors, {empty: 'None.'}));
    fill('unit-files-bad', table([
      {label: 'Since', cell: (e) => time(e.time)}, {label: 'Unit', cell: (e) => e.unit_id},
      {label: 'Dataset', cell: (e) => e.dataset}, {label: 'Why (fix the file, then ozma-server verify)', cell: (e) => e.reason},
    ], s.unit_files_bad || [], {empty: 'None: every file checked matches.'}));
  }
  every(5, load);
})();
