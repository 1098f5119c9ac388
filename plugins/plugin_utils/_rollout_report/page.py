# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout report as one self-contained HTML page: the report's JSON inline, drawn by inline JS into SVG.

Once drawn, the page writes what it drew (every row and bar, with its place on the page and its colour) into
``<pre id="drawn">``, so that a headless browser's ``--dump-dom`` tells a test what a screenshot shows.
"""

from __future__ import annotations

import html
import json
from typing import Any

COLOURS = {
    "drain": "#e4572e",
    "packages": "#4c78a8",
    "kubeadm": "#17becf",
    "restart": "#f2a541",
    "reboot": "#8c564b",
    "wait": "#9c6ade",
    "uncordon": "#54a24b",
}
BLOCKED = "#222222"

STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #555; margin-bottom: 10px; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; }
table { border-collapse: collapse; margin: 4px 0 10px; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
th { background: #f2f2f2; } .failed { color: #b00020; font-weight: bold; } #drawn { display: none; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
"""

SCRIPT = r"""
(function () {
  var report = JSON.parse(document.getElementById('report-data').textContent);
  var colours = JSON.parse(document.getElementById('colours').textContent);
  var NS = 'http://www.w3.org/2000/svg', LEFT = 170, WIDTH = 1180, ROW = 28, BAR = 18, TOP = 34;
  var hosts = Object.keys(report.nodes);
  var t0 = report.started, t1 = Math.max(report.ended, t0 + 1);
  hosts.forEach(function (h) {
    report.nodes[h].forEach(function (e) { t0 = Math.min(t0, e.start); t1 = Math.max(t1, e.end); });
  });
  var scale = (WIDTH - LEFT - 10) / (t1 - t0);
  function x(t) { return LEFT + (t - t0) * scale; }
  function el(name, attrs, parent, text) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) { node.setAttribute(k, attrs[k]); }
    if (text !== undefined) { node.textContent = text; }
    parent.appendChild(node); return node;
  }
  var svg = el('svg', {width: WIDTH, height: TOP + hosts.length * ROW + 24, id: 'timeline'},
               document.getElementById('chart'));
  var batchOf = {};
  report.batches.forEach(function (b, i) {
    b.nodes.forEach(function (h) { if (!(h in batchOf)) { batchOf[h] = b.number; } });
    var band = el('rect', {x: x(b.start), y: 16, width: Math.max(1, x(b.end) - x(b.start)),
                           height: hosts.length * ROW + TOP - 16, fill: i % 2 ? '#f4f4f4' : '#e9eef6',
                           'class': 'batch', 'data-batch': b.number}, svg);
    el('title', {}, band, 'batch ' + b.number + ': ' + b.nodes.join(', ') + ' (' + b.play + ')');
    el('text', {x: x(b.start) + 2, y: 28}, svg, 'batch ' + b.number);
  });
  var step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]
    .filter(function (s) { return (t1 - t0) / s <= 12; })[0] || 7200;
  for (var t = 0; t <= t1 - t0; t += step) {
    el('line', {x1: x(t0 + t), x2: x(t0 + t), y1: 12, y2: TOP + hosts.length * ROW, stroke: '#ddd'}, svg);
    el('text', {x: x(t0 + t) + 2, y: 10}, svg, t + ' s');
  }
  var drawn = {rows: [], bars: [], batches: report.batches.length};
  hosts.forEach(function (h, row) {
    var y = TOP + row * ROW;
    el('text', {x: 4, y: y + BAR - 4, 'class': 'row-label'}, svg, h + (h in batchOf ? '  (b' + batchOf[h] + ')' : ''));
    drawn.rows.push({node: h, y: y, batch: batchOf[h] || null});
    report.nodes[h].forEach(function (e) {
      var w = Math.max(2, x(e.end) - x(e.start));
      var bar = el('rect', {x: x(e.start), y: y, width: w, height: BAR, fill: colours[e.phase] || '#999',
                            stroke: e.status === 'ok' ? 'none' : '#b00020', 'stroke-width': 2, 'class': 'bar',
                            'data-node': h, 'data-phase': e.phase}, svg);
      var d = e.detail || {}, retries = (d.retries || {}).pdbs || {}, names = Object.keys(retries);
      var tip = h + ' ' + e.phase + ': ' + (e.end - e.start).toFixed(1) + ' s'
        + (e.status === 'ok' ? '' : ' (' + e.status + ')');
      if (d.evicted) { tip += ', ' + d.evicted.length + ' evicted'; }
      if (names.length) {
        tip += ', waited on ' + names.map(function (n) { return n + ' x' + retries[n]; }).join(', ');
      }
      el('title', {}, bar, tip);
      var box = bar.getBoundingClientRect();
      var item = {node: h, phase: e.phase, x: box.left + window.scrollX, y: box.top + window.scrollY,
                  width: box.width, height: box.height, colour: colours[e.phase] || '#999', blocked: false};
      if (names.length) {
        var timings = d.timings || {}, from = e.start + (timings.list || 0) + (timings.cordon || 0);
        var until = Math.min(e.end, from + (timings.evict || (e.end - from)));
        var hatch = el('rect', {x: x(from), y: y + BAR / 2, width: Math.max(2, x(until) - x(from)), height: BAR / 2,
                                fill: 'url(#blocked)', 'class': 'blocked', 'data-node': h}, svg);
        el('title', {}, hatch, 'waiting on budgets: ' + names.join(', '));
        item.blocked = true;
      }
      drawn.bars.push(item);
    });
  });
  var defs = el('defs', {}, svg);
  var pattern = el('pattern', {id: 'blocked', width: 6, height: 6, patternUnits: 'userSpaceOnUse',
                               patternTransform: 'rotate(45)'}, defs);
  el('rect', {width: 3, height: 6, fill: colours._blocked}, pattern);
  document.getElementById('drawn').textContent = JSON.stringify(drawn);
})();
"""


def _table(rows: list[tuple[Any, ...]], head: tuple[str, ...]) -> str:
    if not rows:
        return "<p>none</p>"
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" + cells + "</table>"


def _summary(report: dict[str, Any]) -> str:
    summary = report.get("summary") or {}
    before = summary.get("versions_before") or {}
    after = summary.get("versions_after") or {}
    parts = []
    if before or after:
        nodes = sorted(set(before) | set(after))
        parts.append(
            "<h2>Versions</h2>"
            + _table([(n, before.get(n, ""), after.get(n, "")) for n in nodes], ("node", "before", "after"))
        )
    snapshot = summary.get("etcd_snapshot") or {}
    facts = [
        ("target", summary.get("target_version")),
        ("path", " -> ".join(summary.get("path") or []) or None),
        ("duration (s)", summary.get("duration") or report.get("duration")),
        ("etcd snapshot", snapshot.get("path")),
        ("etcd snapshot sha256", snapshot.get("sha256")),
        ("evictions", summary.get("evictions_total")),
        ("nodes patched", ", ".join(summary.get("nodes_patched") or []) or None),
    ]
    parts.append("<h2>Summary</h2>" + _table([f for f in facts if f[1] not in (None, "")], ("", "")))
    budgets = sorted(set(summary.get("evictions_by_budget") or {}) | set(summary.get("retries_by_budget") or {}))
    rows = [
        (b, (summary.get("evictions_by_budget") or {}).get(b, ""), (summary.get("retries_by_budget") or {}).get(b, 0))
        for b in budgets
    ]
    parts.append("<h2>Budgets</h2>" + _table(rows, ("budget", "evictions (planned)", "evictions retried (429)")))
    parts.append(
        "<h2>Evictions per node</h2>" + _table(sorted((summary.get("evictions") or {}).items()), ("node", "pods"))
    )
    plans = []
    for plan in summary.get("plans") or ():
        splits = "; ".join(f"after {s.get('after')}: {s.get('reason')} {s.get('by')}" for s in plan.get("splits") or ())
        plans.append(
            (
                f"{plan.get('rollout')} #{plan.get('step')}",
                " | ".join(",".join(b) for b in plan.get("batches") or ()),
                ", ".join(plan.get("next") or ()),
                splits,
                plan.get("estimate"),
            )
        )
    parts.append("<h2>Plans</h2>" + _table(plans, ("step", "batches", "taken", "splits", "estimate (s)")))
    batches = [
        (b["number"], ", ".join(b["nodes"]), round(b["end"] - b["start"], 1), b["play"])
        for b in report.get("batches") or ()
    ]
    parts.append("<h2>Batches</h2>" + _table(batches, ("batch", "nodes", "seconds", "play")))
    return "\n".join(parts)


def render(report: dict[str, Any]) -> str:
    """The page for ``report`` (``Timeline.report()``)."""
    data = json.dumps(report, sort_keys=True).replace("</", "<\\/")
    colours = json.dumps({**COLOURS, "_blocked": BLOCKED})
    legend = "".join(f'<span><i style="background:{c}"></i>{p}</span>' for p, c in COLOURS.items())
    hatch = f"repeating-linear-gradient(45deg,{BLOCKED} 0 2px,#fff 2px 4px)"
    legend += f'<span><i style="background:{hatch}"></i>waiting on a budget</span>'
    status = "" if report.get("ok", True) else ' <span class="failed">failed</span>'
    title = html.escape(report.get("playbook") or "rollout")
    counts = f"{len(report.get('nodes') or {})} nodes, {len(report.get('batches') or [])} batches"
    meta = f"{counts}, {report.get('duration')} s"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Rollout report: {title}</title><style>{STYLE}</style></head>
<body>
<h1>Rollout report: {title}{status}</h1>
<div class="meta">{meta}</div>
<div class="legend">{legend}</div>
<div id="chart"></div>
{_summary(report)}
<pre id="drawn"></pre>
<script type="application/json" id="report-data">{data}</script>
<script type="application/json" id="colours">{colours}</script>
<script>{SCRIPT}</script>
</body></html>
"""
