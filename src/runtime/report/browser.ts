// The scripts and styles of the HTML report, as text inlined into the page (no network access is
// needed to open it). Vega itself is inlined from its browser build; this adds mounting the
// figures, a tooltip, and a rotatable 3-D view of the attractor drawn on a canvas.
//
// The 3-D view uses the same rotation as the static figure (plots/specs.ts project3d): azimuth
// about the vertical axis, then elevation, orthographic projection.

export const REPORT_CSS = `
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #e3e3e3; --true: #3d3d3d; --gen: #e4572e; --accent: #457b9d; --ok: #2a9d8f; --bad: #c1121f; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: #fafafa; }
header { background: white; border-bottom: 1px solid var(--line); padding: 18px 28px 10px; position: sticky; top: 0; z-index: 5; }
header h1 { margin: 0; font-size: 22px; }
header .sub { color: var(--muted); font-size: 13px; }
nav { margin-top: 8px; font-size: 13px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 28px 60px; }
section { scroll-margin-top: 110px; background: white; border: 1px solid var(--line); border-radius: 8px; padding: 16px 22px; margin: 18px 0; }
h2 { font-size: 18px; margin: 4px 0 10px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.caption, .note { color: var(--muted); font-size: 13.5px; max-width: 960px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 22px; font-variant-numeric: tabular-nums; }
.card .d { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 12px 4px 0; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: normal; }
td.num { text-align: right; }
tr.best td { background: #eef7f5; }
.origin { font-size: 12px; padding: 1px 6px; border-radius: 8px; background: #eee; color: var(--muted); }
.origin.cli { background: #fde8e1; color: #9a3412; }
.origin.spec { background: #e6f0f6; color: #1d4e6e; }
.fig { margin: 6px 0 4px; overflow-x: auto; }
.fig.failed { color: var(--bad); }
.files { font-size: 12px; color: var(--muted); }
.files a { color: var(--accent); }
pre.spec { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px 0; overflow-x: auto; font: 13px/1.45 "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; counter-reset: line; }
pre.spec .ln { display: inline; }
pre.spec .ln::before { counter-increment: line; content: counter(line); display: inline-block; width: 3.2em; margin-right: 12px; text-align: right; color: #aaa; user-select: none; }
.kw { color: #8250df; font-weight: bold; } .kw2 { color: #8250df; } .num { color: #0a6c74; } .str { color: #0a3069; }
.com { color: #6e7781; font-style: italic; } .fn { color: #953800; } .op { color: #cf222e; } .prime { color: #cf222e; font-weight: bold; }
.viewer3d .panes { display: flex; flex-wrap: wrap; gap: 14px; }
.viewer3d figure { margin: 0; }
.viewer3d figcaption { font-size: 12.5px; color: var(--muted); }
.viewer3d canvas { border: 1px solid var(--line); border-radius: 6px; background: white; cursor: grab; touch-action: none; }
.viewer3d canvas:active { cursor: grabbing; }
.viewer3d .controls { font-size: 13px; margin: 6px 0; }
.viewer3d button { font: inherit; font-size: 12.5px; margin-right: 6px; padding: 2px 10px; border: 1px solid #ccc; border-radius: 5px; background: white; cursor: pointer; }
.tip { position: fixed; display: none; z-index: 10; background: rgba(255,255,255,0.97); border: 1px solid #ccc; border-radius: 5px; padding: 5px 8px; font-size: 12.5px; box-shadow: 0 2px 6px rgba(0,0,0,.12); pointer-events: none; }
.tip th { padding-right: 8px; } .tip td, .tip th { border: 0; padding: 1px 8px 1px 0; }
details summary { cursor: pointer; color: var(--accent); }
code { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em; background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
.warn { color: #9a3412; }
`;

export const REPORT_SCRIPT = String.raw`
(function () {
  "use strict";
  var tip = document.createElement("div");
  tip.className = "tip";
  document.body.appendChild(tip);
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }
  function showTip(handler, event, item, value) {
    if (value === null || value === undefined || value === "") { tip.style.display = "none"; return; }
    if (typeof value === "object") {
      tip.innerHTML = "<table>" + Object.keys(value).map(function (k) {
        return "<tr><th>" + esc(k) + "</th><td>" + esc(value[k]) + "</td></tr>";
      }).join("") + "</table>";
    } else tip.textContent = String(value);
    tip.style.display = "block";
    var x = event.clientX + 14, y = event.clientY + 14;
    tip.style.left = Math.max(0, Math.min(x, window.innerWidth - tip.offsetWidth - 8)) + "px";
    tip.style.top = Math.max(0, Math.min(y, window.innerHeight - tip.offsetHeight - 8)) + "px";
  }
  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }

  function mountFigure(el) {
    var view;
    try {
      view = new vega.View(vega.parse(readJson(el.getAttribute("data-spec"))), { renderer: "canvas", container: el, hover: true });
      view.tooltip(showTip);
    } catch (e) { return Promise.resolve(fail(el, e)); }
    return view.runAsync().then(function () { el.setAttribute("data-rendered", "true"); }, function (e) { fail(el, e); });
  }
  function fail(el, e) {
    el.classList.add("failed");
    el.textContent = "This figure could not be drawn: " + (e && e.message ? e.message : e);
    console.error("rnnc report: figure " + el.id + " failed", e);
  }

  // ---- the rotatable 3-D attractor ----
  function viewer3d(root) {
    var data = readJson(root.getAttribute("data-points"));
    var sets = [["true", data["true"], getComputedStyle(root).getPropertyValue("--true") || "#3d3d3d"],
                ["generated", data.generated, getComputedStyle(root).getPropertyValue("--gen") || "#e4572e"]];
    var lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    sets.forEach(function (s) { s[1].forEach(function (p) { for (var j = 0; j < 3; j++) { if (p[j] < lo[j]) lo[j] = p[j]; if (p[j] > hi[j]) hi[j] = p[j]; } }); });
    var center = [0, 1, 2].map(function (j) { return (lo[j] + hi[j]) / 2; });
    var half = [0, 1, 2].map(function (j) { return (hi[j] - lo[j]) / 2 || 1; });
    var norm = sets.map(function (s) { return s[1].map(function (p) { return [0, 1, 2].map(function (j) { return (p[j] - center[j]) / half[j]; }); }); });
    var initial = { az: -55 * Math.PI / 180, el: 22 * Math.PI / 180, zoom: 1 };
    var st = { az: initial.az, el: initial.el, zoom: initial.zoom, spin: false, overlay: false };
    var panes = root.querySelector(".panes");
    var canvases = sets.map(function (s) {
      var fig = document.createElement("figure");
      var c = document.createElement("canvas");
      c.width = 460; c.height = 400; c.setAttribute("aria-label", "3-D view of the " + s[0] + " trajectory");
      var cap = document.createElement("figcaption");
      cap.textContent = s[0] === "true" ? "test data" : "free run of the model";
      fig.appendChild(c); fig.appendChild(cap); panes.appendChild(fig);
      return c;
    });
    function project(p) {
      var ca = Math.cos(st.az), sa = Math.sin(st.az), ce = Math.cos(st.el), se = Math.sin(st.el);
      var xr = p[0] * ca - p[1] * sa, yr = p[0] * sa + p[1] * ca;
      return [xr, p[2] * ce - yr * se, p[2] * se + yr * ce];
    }
    function drawSet(ctx, w, h, pts, color) {
      var scale = Math.min(w, h) * 0.3 * st.zoom, cx = w / 2, cy = h / 2;
      var P = pts.map(project);
      ctx.strokeStyle = color; ctx.lineWidth = 0.8;
      // Depth cue: nearer stretches are drawn more opaque.
      for (var i = 0; i + 1 < P.length; i += 24) {
        var end = Math.min(P.length - 1, i + 24), depth = (P[i][2] + P[end][2]) / 2;
        ctx.globalAlpha = Math.max(0.25, Math.min(1, 0.62 - depth * 0.3));
        ctx.beginPath();
        ctx.moveTo(cx + P[i][0] * scale, cy - P[i][1] * scale);
        for (var k = i + 1; k <= end; k++) ctx.lineTo(cx + P[k][0] * scale, cy - P[k][1] * scale);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    }
    function drawAxes(ctx, h) {
      var o = [46, h - 40];
      ["x", "y", "z"].forEach(function (_, j) {
        var e = [0, 0, 0]; e[j] = 1;
        var q = project(e);
        ctx.strokeStyle = "#999"; ctx.fillStyle = "#555"; ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(o[0], o[1]); ctx.lineTo(o[0] + q[0] * 26, o[1] - q[1] * 26); ctx.stroke();
        ctx.font = "11px sans-serif";
        ctx.fillText(data.features[j], o[0] + q[0] * 32 - 8, o[1] - q[1] * 32 + 4);
      });
    }
    function draw() {
      canvases.forEach(function (c, idx) {
        var dpr = window.devicePixelRatio || 1, w = c.clientWidth || 460, h = c.clientHeight || 400;
        if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
        var ctx = c.getContext("2d");
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.clearRect(0, 0, w, h);
        if (st.overlay) { drawSet(ctx, w, h, norm[1 - idx], idx === 0 ? "rgba(228,87,46,0.6)" : "rgba(61,61,61,0.6)"); }
        drawSet(ctx, w, h, norm[idx], sets[idx][2].trim());
        drawAxes(ctx, h);
      });
      root.setAttribute("data-view", [st.az.toFixed(3), st.el.toFixed(3), st.zoom.toFixed(3)].join(" "));
    }
    var drag = null;
    canvases.forEach(function (c) {
      c.style.width = "460px"; c.style.height = "400px";
      c.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY]; c.setPointerCapture(e.pointerId); });
      c.addEventListener("pointermove", function (e) {
        if (!drag) return;
        st.az += (e.clientX - drag[0]) * 0.01;
        st.el = Math.max(-Math.PI / 2, Math.min(Math.PI / 2, st.el + (e.clientY - drag[1]) * 0.01));
        drag = [e.clientX, e.clientY];
        draw();
      });
      c.addEventListener("pointerup", function () { drag = null; });
      c.addEventListener("wheel", function (e) { e.preventDefault(); st.zoom = Math.max(0.3, Math.min(8, st.zoom * Math.exp(-e.deltaY * 0.001))); draw(); }, { passive: false });
    });
    function spin() { if (!st.spin) return; st.az += 0.006; draw(); requestAnimationFrame(spin); }
    root.querySelector("[data-act=spin]").addEventListener("click", function (e) { st.spin = !st.spin; e.target.textContent = st.spin ? "stop" : "spin"; spin(); });
    root.querySelector("[data-act=reset]").addEventListener("click", function () { st.az = initial.az; st.el = initial.el; st.zoom = initial.zoom; draw(); });
    root.querySelector("[data-act=overlay]").addEventListener("change", function (e) { st.overlay = e.target.checked; draw(); });
    draw();
    root.setAttribute("data-rendered", "true");
  }

  var pending = Array.prototype.map.call(document.querySelectorAll(".fig[data-spec]"), mountFigure);
  Array.prototype.forEach.call(document.querySelectorAll(".viewer3d[data-points]"), function (el) {
    try { viewer3d(el); } catch (e) { fail(el, e); }
  });
  Promise.all(pending).then(function () { document.body.setAttribute("data-ready", "true"); });
})();
`;
