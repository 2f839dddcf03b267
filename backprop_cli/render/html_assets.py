"""The style sheet and scripts of the web pages (render/html.py), kept as strings so the pages
need no file beside them. Plain ES5-level JavaScript, no library; the pages read without it."""

from __future__ import annotations

CSS = """
:root{--bg:#fff;--fg:#1b1b1b;--muted:#555;--line:#d0d0d0;--card:#f6f6f4;--link:#0b57a4;
--fwd:#b35c00;--fwdbg:#fff1e0;--bwd:#6a3fb5;--bwdbg:#f1eafd;--inp:#127a45;--inpbg:#e6f6ec;
--focus:#0b57a4;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#161718;--fg:#e8e8e6;--muted:#b0b0ac;
--line:#44474a;--card:#222426;--link:#8cc2ff;--fwd:#ffae57;--fwdbg:#3a2a16;--bwd:#c6a8ff;
--bwdbg:#2c2340;--inp:#6fdc9f;--inpbg:#173324;--focus:#8cc2ff}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header,main,footer{max-width:1400px;margin:0 auto;padding:0 16px}
h1{font-size:1.6rem;margin:16px 0 4px}
h2{font-size:1.25rem;margin:24px 0 8px}
h3{font-size:1.05rem;margin:16px 0 6px}
a{color:var(--link)}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.92em;
overflow-wrap:anywhere}
.help,.legend,footer{color:var(--muted);font-size:.9rem}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
svg :focus-visible{outline:3px solid var(--focus)}
.skip{position:absolute;left:-9999px;top:0}
.skip:focus{left:8px;top:8px;background:var(--bg);padding:6px 10px;z-index:10}
.layout{display:grid;grid-template-columns:minmax(0,1fr);gap:16px}
@media (min-width:1100px){.layout{grid-template-columns:minmax(0,1fr) minmax(360px,34%)}
.figure{order:2;position:sticky;top:8px;align-self:start;max-height:calc(100vh - 16px);
overflow:auto}.steps{order:1}}
.figure{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px;
min-width:0}
.diagram{background:#fff;border-radius:6px;overflow:hidden}
.diagram svg{display:block;width:100%;height:auto;max-height:60vh}
.diagram [data-open]{cursor:pointer}
.diagram .lit-forward circle,.diagram line.lit-forward{stroke:var(--fwd);stroke-width:6px}
.diagram .lit-backward circle,.diagram line.lit-backward{stroke:var(--bwd);stroke-width:6px;
stroke-dasharray:8 4}
.diagram g.lit-forward rect{stroke:var(--fwd);stroke-width:3px}
.diagram g.lit-backward rect{stroke:var(--bwd);stroke-width:3px;stroke-dasharray:5 3}
.diagram .in circle,.diagram line.in{stroke:var(--inp);stroke-width:4px;stroke-dasharray:2 3}
.diagram g.in rect{stroke:var(--inp);stroke-width:2.5px;stroke-dasharray:2 2}
@media (prefers-color-scheme:dark){.diagram .lit-forward circle,.diagram line.lit-forward,
.diagram g.lit-forward rect{stroke:#b35c00}.diagram .lit-backward circle,
.diagram line.lit-backward,.diagram g.lit-backward rect{stroke:#6a3fb5}
.diagram .in circle,.diagram line.in,.diagram g.in rect{stroke:#127a45}}
.legend .key{white-space:nowrap;margin-right:10px}
.legend .fwd{border-bottom:3px solid var(--fwd)}
.legend .bwd{border-bottom:3px dashed var(--bwd)}
.legend .inp{border-bottom:3px dotted var(--inp)}
.controls{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-top:6px}
.controls p{margin:0;flex:1 1 100%;font-weight:600;overflow-wrap:anywhere}
button{font:inherit;padding:6px 12px;border-radius:6px;border:1px solid var(--line);
background:var(--bg);color:var(--fg);cursor:pointer;min-height:36px}
button:hover{border-color:var(--fg)}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:6px 0 12px}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{text-align:left;vertical-align:top;padding:6px 10px 6px 0;border-bottom:1px solid var(--line)}
thead th{font-size:.85rem;color:var(--muted);font-weight:600}
table.steps{width:100%}
table.steps th[scope=row]{white-space:nowrap;font-weight:normal}
td.value{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.params td{text-align:right;font-variant-numeric:tabular-nums}
.piece{display:inline-block;white-space:nowrap;margin-right:.25em}
math{font-size:1.05em}
.id{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.9em;text-decoration:none;
color:var(--fg)}
.v{font-weight:600}
tr.step .mark::before{content:"";display:inline-block;width:1.6em}
tr.current{outline:3px solid var(--fwd);outline-offset:-3px;background:var(--fwdbg)}
tr.current[data-way=backward]{outline:3px dashed var(--bwd);background:var(--bwdbg)}
tr.current .mark::before{content:"▶"}
tr.current[data-way=backward] .mark::before{content:"◀"}
tr.input{background:var(--inpbg);outline:2px dotted var(--inp);outline-offset:-2px}
tr.input .mark::before{content:"•"}
.note{color:var(--muted);font-style:italic;margin:4px 0}
.display{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 24px}
.chains .chain{border-top:1px solid var(--line);padding:4px 0}
.tree{list-style:none;padding-left:1.2em;margin:4px 0}
.tree li::before{content:"├─ ";color:var(--muted)}
.tree li:last-child::before{content:"└─ "}
.given{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
.given dt{color:var(--muted)}.given dd{margin:0}.given .h{font-weight:600;color:var(--fg)}
.js .chains{display:none}
.panel{position:fixed;right:12px;bottom:12px;width:min(560px,calc(100vw - 24px));
max-height:min(70vh,640px);overflow:auto;background:var(--bg);color:var(--fg);
border:2px solid var(--fg);border-radius:8px;padding:8px 14px 12px;
box-shadow:0 6px 24px rgba(0,0,0,.3);z-index:5}
.panel-head{display:flex;justify-content:space-between;align-items:center;gap:8px}
.panel-head h2{margin:4px 0}
.panel .chain h3{display:none}
.tabs{display:flex;gap:4px;border-bottom:1px solid var(--line);margin:8px 0 12px}
.tabs [role=tab]{border-bottom:none;border-radius:6px 6px 0 0}
.tabs [aria-selected=true]{font-weight:700;border-color:var(--fg);
box-shadow:inset 0 -3px 0 var(--fg)}
.mscroll{max-width:100%;overflow-x:auto;margin:6px 0}
.mscroll math{display:block;text-align:left}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}
.facts dd{margin:0;font-variant-numeric:tabular-nums}
.curvebox{max-width:680px}
.curve{display:block;width:100%;height:auto;font:12px system-ui,sans-serif}
.curve text{fill:var(--fg)}
.curve .axis{stroke:var(--fg)}.curve .grid{stroke:var(--line)}
.curve .line{fill:none;stroke:var(--link);stroke-width:2}
.curve #dot{fill:var(--fwd);stroke:var(--fg)}
.curve .hit{fill:transparent;cursor:crosshair}
.readout{font-variant-numeric:tabular-nums;font-weight:600}
@media (max-width:640px){
table.steps thead{position:absolute;left:-9999px}
table.steps,table.steps tbody,table.steps tr,table.steps th,table.steps td{display:block;
width:auto}
table.steps tr{padding:6px 4px;border-bottom:1px solid var(--line)}
table.steps th,table.steps td{border:none;padding:2px 0}
table.steps td.value{text-align:left}
table.steps td.numbers::before{content:"= ";color:var(--muted)}
table.steps td.value::before{content:"= ";color:var(--muted)}}
@media print{
.controls,.skip,.panel,.tabs,.help,.legend,footer{display:none!important}
.js .chains{display:none}
.layout{display:block}.figure{position:static;max-height:none;border:none;padding:0}
.diagram svg{max-height:none}
.view[hidden]{display:block!important}
body{font-size:11pt;background:#fff;color:#000}
a{color:inherit;text-decoration:none}
.scroll{overflow:visible}
tr{break-inside:avoid}
tr.current,tr.input{outline:none;background:none}
tr.step .mark::before{content:none}
.phase h2{break-after:avoid}}
""".strip()

STEP_JS = r"""
(function () {
  'use strict';
  document.documentElement.className += ' js';
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.step'));
  var svg = document.getElementById('net');
  var status = document.getElementById('status');
  var panel = document.getElementById('panel');
  var panelBody = document.getElementById('panel-body');
  var panelTitle = document.getElementById('panel-title');
  var current = -1;
  var lit = [];
  var opener = null;
  var byAnchor = {};
  rows.forEach(function (r, i) { byAnchor[r.id] = i; });

  function parts(key) {
    if (!svg || !key) { return []; }
    var q = CSS.escape(key);
    var found = Array.prototype.slice.call(
      svg.querySelectorAll('[data-param="' + q + '"],[data-bias="' + q + '"]'));
    var node = document.getElementById('node-' + key);
    if (node) { found.push(node); }
    return found;
  }
  function words(text) { return text ? text.split(' ') : []; }
  function mark(el, cls) { el.classList.add(cls); lit.push([el, cls]); }
  function clear() {
    lit.forEach(function (p) {
      p[0].classList.remove(p[1]);
      if (p[1] === 'current') { p[0].removeAttribute('aria-current'); }
    });
    lit = [];
  }
  function valueOf(row) { return row.querySelector('.v').textContent; }

  function go(i, scroll) {
    if (!rows.length) { return; }
    i = Math.max(0, Math.min(rows.length - 1, i));
    clear();
    current = i;
    var row = rows[i];
    var way = row.getAttribute('data-way');
    mark(row, 'current');
    row.setAttribute('aria-current', 'step');
    words(row.getAttribute('data-src')).forEach(function (j) { mark(rows[+j], 'input'); });
    words(row.getAttribute('data-in')).forEach(function (k) {
      parts(k).forEach(function (el) { mark(el, 'in'); });
    });
    words(row.getAttribute('data-lit')).forEach(function (k) {
      parts(k).forEach(function (el) { mark(el, 'lit-' + way); });
    });
    status.textContent = 'Step ' + (i + 1) + ' of ' + rows.length + ' (' +
      (way === 'forward' ? '▶ ' : '◀ ') + row.getAttribute('data-phase') + '): ' +
      row.id + ' = ' + valueOf(row);
    if (scroll) { row.scrollIntoView({block: 'nearest'}); }
    try { history.replaceState(null, '', '#' + row.id); } catch (e) { /* not allowed here */ }
  }

  function openChain(anchor, from) {
    var chain = document.getElementById('why:' + anchor);
    if (!chain) { return; }
    if (byAnchor[anchor] !== undefined) { go(byAnchor[anchor], true); }
    panelBody.innerHTML = '';
    var copy = chain.cloneNode(true);
    copy.removeAttribute('id');
    copy.removeAttribute('aria-labelledby');
    Array.prototype.forEach.call(copy.querySelectorAll('[id]'), function (el) {
      el.removeAttribute('id');
    });
    panelBody.appendChild(copy);
    panelTitle.textContent = 'Chain rule of ' + anchor;
    if (panel.hidden) { opener = from || document.activeElement; }
    panel.hidden = false;
    panelTitle.focus();
  }
  function closePanel() {
    panel.hidden = true;
    if (opener && opener.focus) { opener.focus(); }
    opener = null;
  }

  function fromHash() {
    var h = location.hash.slice(1);
    try { h = decodeURIComponent(h); } catch (e) { return; }
    if (h.indexOf('why:') === 0) { openChain(h.slice(4)); return; }
    var m = /^(.*)\[1\]$/.exec(h);
    if (byAnchor[h] === undefined && m && byAnchor[m[1]] !== undefined) { h = m[1]; }
    if (byAnchor[h] !== undefined) { go(byAnchor[h], true); }
  }

  function on(id, f) {
    var el = document.getElementById(id);
    if (el) { el.addEventListener('click', f); }
  }
  on('next', function () { go(current + 1, true); });
  on('prev', function () { go(current < 0 ? 0 : current - 1, true); });
  on('first', function () { go(0, true); });
  on('last', function () { go(rows.length - 1, true); });
  on('close', closePanel);

  document.addEventListener('click', function (ev) {
    var t = ev.target.closest ? ev.target.closest('a, [data-open]') : null;
    if (!t) { return; }
    var go_ = t.getAttribute('data-go') || t.getAttribute('data-open');
    var href = t.getAttribute('href') || '';
    if (!go_ && href.indexOf('#why:') === 0) { go_ = href.slice(5); }
    if (go_) { ev.preventDefault(); openChain(go_, panel.hidden ? t : opener); return; }
    if (href.charAt(0) === '#' && byAnchor[href.slice(1)] !== undefined) {
      ev.preventDefault();
      go(byAnchor[href.slice(1)], true);
    }
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) { return; }
    var t = ev.target;
    if (ev.key === 'Escape' && !panel.hidden) { closePanel(); return; }
    if ((ev.key === 'Enter' || ev.key === ' ') && t.getAttribute && t.getAttribute('data-open') &&
        t.tagName.toLowerCase() !== 'a') {
      ev.preventDefault();
      openChain(t.getAttribute('data-open'), t);
      return;
    }
    if (t.closest && t.closest('[role=tablist]')) { return; }
    if (ev.key === 'ArrowRight') { ev.preventDefault(); go(current + 1, true); }
    if (ev.key === 'ArrowLeft') { ev.preventDefault(); go(current < 0 ? 0 : current - 1, true); }
  });
  window.addEventListener('hashchange', fromHash);

  var tabs = Array.prototype.slice.call(document.querySelectorAll('[role=tab]'));
  function select(k, focus) {
    tabs.forEach(function (tab, j) {
      var on_ = j === k;
      tab.setAttribute('aria-selected', on_ ? 'true' : 'false');
      tab.tabIndex = on_ ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')).hidden = !on_;
    });
    if (focus) { tabs[k].focus(); }
  }
  tabs.forEach(function (tab, k) {
    tab.addEventListener('click', function () { select(k, false); });
    tab.addEventListener('keydown', function (ev) {
      var d = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
      if (d) { ev.preventDefault(); select((k + d + tabs.length) % tabs.length, true); }
    });
  });
  if (tabs.length) { select(0, false); }
  if (location.hash.length > 1) { fromHash(); }
})();
""".strip()

TRAIN_JS = r"""
(function () {
  'use strict';
  var svg = document.getElementById('curve');
  if (!svg) { return; }
  function nums(name) { return svg.getAttribute(name).split(' '); }
  var epochs = nums('data-e'), shown = nums('data-shown');
  var xs = nums('data-x').map(Number), ys = nums('data-y').map(Number);
  var dot = document.getElementById('dot');
  var readout = document.getElementById('readout');
  var k = xs.length - 1;
  function show(i) {
    k = Math.max(0, Math.min(xs.length - 1, i));
    dot.setAttribute('cx', xs[k]);
    dot.setAttribute('cy', ys[k]);
    readout.textContent = 'epoch ' + epochs[k] + ': E_total = ' + shown[k];
  }
  svg.addEventListener('mousemove', function (ev) {
    var box = svg.getBoundingClientRect();
    var x = (ev.clientX - box.left) * svg.viewBox.baseVal.width / box.width;
    var best = 0;
    for (var i = 1; i < xs.length; i++) {
      if (Math.abs(xs[i] - x) < Math.abs(xs[best] - x)) { best = i; }
    }
    show(best);
  });
  svg.addEventListener('keydown', function (ev) {
    var step = ev.shiftKey ? 10 : 1;
    if (ev.key === 'ArrowRight') { ev.preventDefault(); show(k + step); }
    if (ev.key === 'ArrowLeft') { ev.preventDefault(); show(k - step); }
    if (ev.key === 'Home') { ev.preventDefault(); show(0); }
    if (ev.key === 'End') { ev.preventDefault(); show(xs.length - 1); }
  });
})();
""".strip()
