// planctl serve: the stylesheet and the one small script, compiled into the
// binary (no build step, no framework). /static/style.css, /static/app.js and
// the icon (/static/icon.svg, /favicon.ico) are the only static routes;
// anything else under /static/ is 404.
//
// app.js: the audit page's live tail. It opens an EventSource on
// /audit/stream after the page's head sequence, appends each event as a row
// (built with textContent: event text is never parsed as HTML), and pauses
// (closes the stream) and resumes after the last event shown, so a pause loses
// nothing.
#include <string>

#include "site.hpp"

namespace planctl::serve {
namespace {

constexpr const char* kStyle = R"css(
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#fff; --head:#f6f8fa;
  --add:#dafbe1; --addfg:#116329; --del:#ffebe9; --delfg:#82071e; --link:#0969da; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.2rem; background:#24292f; color:#fff; }
header .brand { font-weight:600; } header nav a { color:#d0d7de; margin-right:1rem; text-decoration:none; }
header nav a.active { color:#fff; font-weight:600; border-bottom:2px solid #fd8c73; }
header .ro { margin-left:auto; font-size:12px; color:#8c959f; }
main { padding:1rem 1.5rem; max-width:1400px; }
a { color:var(--link); } h1 { font-size:1.5rem; margin:.4rem 0 .8rem; } h2 { font-size:1.1rem; margin:1.2rem 0 .4rem; }
table { border-collapse:collapse; width:100%; } th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
thead th { background:var(--head); } th a { color:inherit; } th a.sorted { color:var(--link); }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
table.fields th { width:11rem; color:var(--muted); font-weight:500; }
.counts { display:flex; gap:.6rem; flex-wrap:wrap; margin-bottom:.8rem; }
.count { border:1px solid var(--line); border-radius:6px; padding:.3rem .8rem; min-width:6rem; }
.count b { display:block; font-size:1.3rem; } .count span { color:var(--muted); font-size:12px; }
form.filters, form.compare { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:flex-end; margin:.6rem 0 1rem; padding:.6rem; background:var(--head); border-radius:6px; }
form label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); }
form label.check { flex-direction:row; align-items:center; gap:.2rem; color:var(--fg); font-size:14px; }
input, select, button { font:inherit; padding:.2rem .4rem; } form.compare input { width:5rem; }
button, a.button { background:#1f883d; color:#fff; border:0; border-radius:6px; padding:.3rem .9rem; cursor:pointer; text-decoration:none; }
.badge { border-radius:2em; padding:0 .6em; font-size:12px; border:1px solid; }
.badge.active { color:#1a7f37; } .badge.paused { color:#9a6700; } .badge.converted { color:#0969da; } .badge.archived { color:#656d76; }
.muted { color:var(--muted); } .error { color:var(--delfg); }
.columns { display:grid; grid-template-columns: 1fr 1fr; gap:2rem; }
ol.timeline { list-style:none; padding:0; border-left:2px solid var(--line); margin-left:.4rem; }
ol.timeline li { padding:.2rem 0 .5rem .8rem; position:relative; }
ol.timeline li::before { content:""; position:absolute; left:-6px; top:.6rem; width:10px; height:10px; border-radius:50%; background:#8c959f; }
article.markdown { border:1px solid var(--line); border-radius:6px; padding:.4rem 1.4rem; }
pre, code { font:12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background:var(--head); padding:.6rem; overflow:auto; white-space:pre-wrap; word-break:break-word; }
nav.tabs { display:flex; gap:.3rem; margin:.6rem 0; } nav.tabs a { padding:.2rem .8rem; border:1px solid var(--line); border-radius:6px; text-decoration:none; }
nav.tabs a.active { background:var(--link); color:#fff; border-color:var(--link); }
nav.pager { display:flex; gap:1rem; margin:.8rem 0; } .crumbs { color:var(--muted); margin:0; }
table.diff { font:12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; table-layout:fixed; }
table.diff td { border:0; padding:0 .5rem; white-space:pre-wrap; word-break:break-word; }
table.diff col.n { width:3.5rem; } table.diff td.num { color:var(--muted); text-align:right; user-select:none; }
table.diff tr.hunk td { background:#ddf4ff; color:var(--muted); padding:.2rem .5rem; }
table.diff tr.add td, table.diff td.code.add { background:var(--add); }
table.diff tr.del td, table.diff td.code.del { background:var(--del); }
table.diff td.code.empty { background:#f6f8fa; }
.diffstat .plus { color:var(--addfg); font-weight:600; } .diffstat .minus { color:var(--delfg); font-weight:600; }
table.events details pre { max-width:48rem; margin:.3rem 0; }
tr.live td { animation: flash 2s ease-out; } @keyframes flash { from { background:#fff8c5; } to { background:transparent; } }
#live { margin:.4rem 0 .8rem; } #live-state.on { color:#1a7f37; font-weight:600; }
td.behind { color:var(--delfg); font-weight:600; } #verify-result.ok b { color:#1a7f37; } #verify-result.failed b { color:var(--delfg); }
ul.plain { list-style:none; padding:0; margin:0; }
)css";

constexpr const char* kScript = R"js('use strict';
(function () {
  const live = document.getElementById('live');
  if (!live) return;
  const button = document.getElementById('live-toggle');
  const state = document.getElementById('live-state');
  const rows = document.getElementById('live-rows');
  let after = live.dataset.after;
  let source = null;
  let shown = 0;
  function cell(tr, text, className) {
    const td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function add(event) {
    const tr = document.createElement('tr');
    tr.className = 'event live';
    tr.dataset.seq = String(event.sequence);
    cell(tr, String(event.sequence), 'num');
    // As the server writes times: "2025-01-01 12:00:00 UTC", the exact text in datetime.
    const time = document.createElement('time');
    time.dateTime = event.timestamp;
    time.title = event.timestamp;
    time.textContent = event.timestamp.slice(0, 10) + ' ' + event.timestamp.slice(11, 19) + ' UTC';
    cell(tr, '').appendChild(time);
    const session = cell(tr, '');
    const a = document.createElement('a');
    a.href = '/sessions/' + encodeURIComponent(event.session_id);
    a.textContent = event.session_id;
    session.appendChild(a);
    cell(tr, event.type).className = 'type';
    cell(tr, event.actor);
    const json = cell(tr, '');
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'JSON';
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(event, null, 2);
    details.append(summary, pre);
    json.appendChild(details);
    rows.appendChild(tr);
  }
  function start() {
    const query = live.dataset.query;
    source = new EventSource('/audit/stream?after=' + encodeURIComponent(after) + (query ? '&' + query : ''));
    source.addEventListener('event', function (message) {
      after = message.lastEventId;
      add(JSON.parse(message.data));
      shown += 1;
      state.textContent = 'live · ' + shown + ' new';
    });
    source.onopen = function () { state.textContent = 'live · ' + shown + ' new'; state.className = 'on'; };
    source.onerror = function () { state.textContent = 'reconnecting…'; state.className = ''; };
    button.textContent = 'Pause';
    state.textContent = 'connecting…';
  }
  function pause() {
    source.close();
    source = null;
    button.textContent = 'Resume';
    state.textContent = 'paused after #' + after;
    state.className = '';
  }
  button.addEventListener('click', function () { if (source) pause(); else start(); });
})();
)js";

constexpr const char* kIcon =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><rect width=\"16\" "
    "height=\"16\" rx=\"3\" fill=\"#24292f\"/><path d=\"M4 4h8M4 8h6M4 12h8\" "
    "stroke=\"#fd8c73\" stroke-width=\"2\"/></svg>";

}  // namespace

void add_static_files(httplib::Server& server) {
  server.Get("/static/style.css", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(kStyle, "text/css; charset=utf-8");
  });
  server.Get("/static/app.js", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(kScript, "text/javascript; charset=utf-8");
  });
  auto icon = [](const httplib::Request&, httplib::Response& response) {
    response.set_content(kIcon, "image/svg+xml");
  };
  server.Get("/static/icon.svg", icon);
  server.Get("/favicon.ico", icon);
}

}  // namespace planctl::serve
