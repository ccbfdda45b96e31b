"""A self-contained HTML flame graph: one file, inline CSS and JavaScript, no network.

The page embeds each profile's call tree (:meth:`~._model.Profile.tree`) as
JSON and draws it as nested boxes, the root on top and callees below (an
icicle, the layout speedscope calls "left heavy"): a box's width is its
inclusive weight, children sorted heaviest first.  Click a box to zoom to it
(click the root bar to zoom out), hover for name, weight, share and self
weight, type in the search box to highlight matching frames; a selector
switches between the profiles of the file (cost / wall time, or cycles).  Every
name is inserted as text, never as markup, so a hostile symbol name cannot
inject anything.
"""

from __future__ import annotations

import html
import json

from ._model import Profile

__all__ = ["flame_html"]

_CSS = """
body{font:13px/1.3 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:18px;margin:0 0 4px}#sub{color:#666;margin-bottom:10px}
#bar{display:flex;gap:12px;align-items:center;margin-bottom:8px}
#graph{position:relative;width:100%;overflow:hidden;border:1px solid #ddd;background:#fff}
.f{position:absolute;height:17px;box-sizing:border-box;border:1px solid #fff;overflow:hidden;
white-space:nowrap;font-size:11px;padding:1px 3px;cursor:pointer;color:#111}
.f.hit{outline:2px solid #0050ff;z-index:2}.f.dim{opacity:.35}
#tip{position:fixed;pointer-events:none;background:#222;color:#fff;padding:6px 8px;
border-radius:4px;font-size:12px;display:none;z-index:9;max-width:480px}
table{border-collapse:collapse;margin-top:14px}td,th{padding:2px 10px;text-align:right}
td:last-child,th:last-child{text-align:left;font-family:monospace}tr:nth-child(even){background:#f0f0f0}
"""

_JS = r"""
(function(){
const data = JSON.parse(document.getElementById('profiles').textContent);
const graph = document.getElementById('graph'), tip = document.getElementById('tip');
const sel = document.getElementById('which'), search = document.getElementById('search');
const H = 18;
let cur = 0, zoom = null;
data.forEach((p, i) => { const o = document.createElement('option'); o.value = i;
  o.textContent = p.name + ' (' + p.unit + ')'; sel.appendChild(o); });
function hue(name){ let h = 0; for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return 'hsl(' + (10 + h % 45) + ',' + (70 + h % 25) + '%,' + (58 + h % 14) + '%)'; }
function depth(n){ return 1 + Math.max(0, ...n.children.map(depth)); }
function fmt(v){ return v.toLocaleString('en-US'); }
function draw(){
  const p = data[cur], root = p.tree, top = zoom || root;
  graph.textContent = '';
  const W = graph.clientWidth, total = root.value || 1;
  graph.style.height = (depth(top) * H + 4) + 'px';
  const q = search.value.trim().toLowerCase();
  function box(n, x, w, d){
    if (w < 0.5) return;
    const el = document.createElement('div');
    el.className = 'f'; el.style.left = x + 'px'; el.style.top = (d * H) + 'px';
    el.style.width = w + 'px'; el.style.background = d ? hue(n.name) : '#ccc';
    el.textContent = n.name;
    if (q) el.classList.add(n.name.toLowerCase().includes(q) ? 'hit' : 'dim');
    el.onmousemove = e => { tip.style.display = 'block';
      tip.style.left = Math.min(e.clientX + 12, innerWidth - 300) + 'px'; tip.style.top = (e.clientY + 12) + 'px';
      tip.textContent = n.name + ' \u2014 ' + fmt(n.value) + ' ' + p.unit + ' (' +
        (100 * n.value / total).toFixed(2) + '%), self ' + fmt(n.self); };
    el.onmouseleave = () => { tip.style.display = 'none'; };
    el.onclick = () => { zoom = (n === top) ? null : n; draw(); };
    graph.appendChild(el);
    let cx = x;
    for (const c of n.children) { const cw = w * c.value / (n.value || 1); box(c, cx, cw, d + 1); cx += cw; }
  }
  box(top, 0, W, 0);
}
sel.onchange = () => { cur = +sel.value; zoom = null; draw(); };
search.oninput = draw; addEventListener('resize', draw); draw();
})();
"""


def flame_html(profiles: list[Profile], title: str, subtitle: str = "",
               table: str = "") -> str:
    """The HTML page (a string) for ``profiles``; ``table`` is shown below as preformatted text."""
    data = []
    for p in profiles:
        tree = p.tree()
        tree["name"] = f"all: {p.total():,} {p.unit}" + ("" if p.exact else " (sampled)")
        data.append({"name": p.name, "unit": p.unit, "exact": p.exact, "tree": tree})
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    esc = html.escape
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1><div id='sub'>{esc(subtitle)}</div>"
        "<div id='bar'><label>profile <select id='which'></select></label>"
        "<label>search <input id='search' placeholder='function name'></label>"
        "<span style='color:#666'>click a frame to zoom, the top bar to zoom out</span></div>"
        "<div id='graph'></div><div id='tip'></div>"
        f"<pre>{esc(table)}</pre>"
        f"<script type='application/json' id='profiles'>{blob}</script>"
        f"<script>{_JS}</script></body></html>\n")
