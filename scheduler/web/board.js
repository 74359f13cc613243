/*
 * board.js - the leaderboards at /users, /hosts and /teams: by total credit
 * or by recent average credit (?order=total|rac), a page at a time
 * (?after=CURSOR from the API's "next", ?rank=N the first row's rank).
 */
'use strict';

(() => {
  const {el, api, fill, num, credit, ago, table, link, once} = OZ;
  const kind = location.pathname.slice(1); /* users, hosts, teams */
  const q = new URLSearchParams(location.search);
  const order = q.get('order') === 'rac' ? 'rac' : 'total';
  const after = q.get('after');
  const rank0 = Math.max(1, parseInt(q.get('rank') || '1', 10) || 1);
  const titles = {users: 'Top accounts', hosts: 'Top hosts', teams: 'Top teams'};
  const PAGE = 50;

  function href(o, a, r) {
    const p = new URLSearchParams({order: o});
    if (a) { p.set('after', a); p.set('rank', r); }
    return location.pathname + '?' + p.toString();
  }

  async function load() {
    document.getElementById('title').textContent = titles[kind];
    document.title = titles[kind] + ' - Ozma';
    fill('tabs',
         el('a', {href: href('total'), 'aria-current': order === 'total' ? 'page' : null}, 'Total credit'),
         el('a', {href: href('rac'), 'aria-current': order === 'rac' ? 'page' : null}, 'Recent average credit'));
    let path = '/api/v1/' + kind + '?order=' + order + '&limit=' + PAGE;
    if (after) path += '&after=' + encodeURIComponent(after);
    const page = await api(path);
    const rows = page[kind];
    const cols = [
      {label: '#', num: true, cell: (r) => String(rows.indexOf(r) + rank0)},
      {label: 'Name', cell: (r) => link('/' + kind + '/' + r.id, r.name)},
    ];
    if (kind === 'users')
      cols.push({label: 'Team', cell: (r) => r.team_id ? link('/teams/' + r.team_id, r.team_name) : '-'});
    if (kind === 'hosts') {
      cols.push({label: 'Owner', cell: (r) => link('/users/' + r.user_id, r.user_name)});
      cols.push({label: 'CPUs', num: true, cell: (r) => num(r.ncpus)});
      cols.push({label: 'Last contact', cell: (r) => ago(r.last_rpc)});
    }
    if (kind === 'teams')
      cols.push({label: 'Members', num: true, cell: (r) => num(r.nusers)});
    cols.push({label: 'Total credit', num: true, cell: (r) => credit(r.total_credit)});
    cols.push({label: 'Recent average', num: true, cell: (r) => credit(r.recent_credit)});
    fill('board', table(cols, rows, {empty: 'Nobody here yet.'}));
    fill('pager',
         after ? link(href(order), 'First page') : null,
         page.next ? link(href(order, page.next, rank0 + rows.length), 'Next page') : null);
  }
  once(load);
})();
