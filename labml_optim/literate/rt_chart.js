// RAdam's rectification term r_t against the step t, redrawn for a chosen beta2 and
// threshold rule. Plain JS + SVG. The page keeps its static PNG (`img.lo-rt-chart`); this
// script adds the interactive chart after it and hides the PNG, so without JS the PNG
// stays. smaLength and rectification are line-for-line ports of labml_optim/radam.py's
// `sma_length` and `rectification` (tests compare them with Python's values).
(function (root) {
  "use strict";

  function smaLength(t, beta2) {
    var rhoInf = 2 / (1 - beta2) - 1;
    return rhoInf - 2 * t * Math.pow(beta2, t) / (1 - Math.pow(beta2, t));
  }

  function rectification(rhoT, rhoInf) {
    return Math.sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
  }

  // The three rules in use: the paper's, the official code's (since August 2019), torch's.
  var RULES = {
    paper: { label: "paper: \u03c1\u209c > 4", test: function (rho) { return rho > 4; } },
    official: { label: "official code: \u03c1\u209c \u2265 5", test: function (rho) { return rho >= 5; } },
    torch: { label: "torch: \u03c1\u209c > 5", test: function (rho) { return rho > 5; } },
  };

  // Integer steps from 1 to 1e5, evenly spaced on the log axis (as the chapter's figure).
  var STEPS = (function () {
    var seen = {}, out = [];
    for (var i = 0; i <= 600; i++) {
      var t = Math.round(Math.pow(10, 5 * i / 600));
      if (!seen[t]) { seen[t] = true; out.push(t); }
    }
    return out;
  })();

  // r_t at each step (NaN where the rule does not rectify) and the linear warmup.
  function curves(beta2, rule) {
    var rhoInf = 2 / (1 - beta2) - 1, test = RULES[rule].test;
    var r = [], warmup = [], first = null;
    for (var i = 0; i < STEPS.length; i++) {
      var t = STEPS[i], rho = smaLength(t, beta2);
      var value = test(rho) ? rectification(rho, rhoInf) : NaN;
      if (first === null && !isNaN(value)) first = { t: t, r: value };
      r.push(value);
      warmup.push(Math.min(1, t * (1 - beta2) / 2));
    }
    return { steps: STEPS, r: r, warmup: warmup, first: first };
  }

  // Plot geometry in SVG user units; data-plot on the svg repeats it for readers (tests).
  // The user-unit width follows the chart's width on screen (320 to 640), so on a phone the
  // svg is not scaled down and its 12-unit text stays 12 px (at least 9 px at 390 px).
  var L = 48, R = 20, T = 12, B = 40, TMAX = 1e5, YMAX = 1.02, W = 640, H = 300;
  function fit(px) {
    W = Math.round(Math.min(640, Math.max(320, px || 640)));
    H = Math.round(Math.min(300, Math.max(220, W * 0.47)));
  }
  function x(t) { return L + (W - L - R) * Math.log10(t) / Math.log10(TMAX); }
  function y(v) { return T + (H - T - B) * (1 - v / YMAX); }

  function pathOf(steps, values) {
    var d = "", pen = false;
    for (var i = 0; i < steps.length; i++) {
      if (isNaN(values[i])) { pen = false; continue; }
      d += (pen ? "L" : "M") + x(steps[i]).toFixed(3) + " " + y(values[i]).toFixed(4);
      pen = true;
    }
    return d;
  }

  var SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function axes(svg, before) {
    var g = el("g", { "class": "lo-rt-axes" });
    svg.insertBefore(g, before);
    el("line", { x1: L, y1: y(0), x2: W - R, y2: y(0) }, g);
    el("line", { x1: L, y1: y(0), x2: L, y2: T }, g);
    for (var k = 0; k <= 5; k++) {
      var tx = x(Math.pow(10, k));
      el("line", { x1: tx, y1: y(0), x2: tx, y2: T, "class": "lo-rt-grid" }, g);
      el("text", { x: tx, y: y(0) + 16, "text-anchor": "middle" }, g).textContent =
        k === 0 ? "1" : "10" + "\u2070\u00b9\u00b2\u00b3\u2074\u2075".charAt(k);
    }
    [0, 0.25, 0.5, 0.75, 1].forEach(function (v) {
      el("line", { x1: L, y1: y(v), x2: W - R, y2: y(v), "class": "lo-rt-grid" }, g);
      el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, g).textContent = String(v);
    });
    el("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle" }, g).textContent = "step t";
    el("text", { x: 12, y: (T + y(0)) / 2, "text-anchor": "middle",
                 transform: "rotate(-90 12 " + (T + y(0)) / 2 + ")" }, g).textContent = "r\u209c";
  }

  var count = 0;
  function build(img) {
    var id = "lo-rt-" + (count++);
    var figure = document.createElement("figure");
    figure.className = "lo-rt";
    figure.innerHTML =
      '<div class="lo-rt-controls">' +
      '<label for="' + id + '-beta2">\u03b2\u2082 = <output id="' + id + '-out"></output></label>' +
      '<input type="range" id="' + id + '-beta2" min="1" max="4" step="0.01" value="3">' +
      '<fieldset><legend>rectify when</legend></fieldset></div>';
    var fieldset = figure.querySelector("fieldset");
    Object.keys(RULES).forEach(function (rule) {
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "radio"; input.name = id + "-rule"; input.value = rule;
      input.checked = rule === "torch";
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + RULES[rule].label));
      fieldset.appendChild(label);
    });
    var svg = el("svg", { role: "img" });
    var title = el("title", {}, svg);
    var warm = el("path", { "class": "lo-rt-warmup" }, svg);
    var curve = el("path", { "class": "lo-rt-curve" }, svg);
    figure.appendChild(svg);
    var caption = document.createElement("figcaption");
    figure.appendChild(caption);

    var slider = figure.querySelector("input[type=range]");
    var out = figure.querySelector("output");
    var width = 0;
    function shape() {
      var px = figure.clientWidth;
      if (px === width && svg.querySelector(".lo-rt-axes")) return false;
      width = px;
      fit(px);
      svg.setAttribute("viewBox", "0 0 " + W + " " + H);
      svg.setAttribute("data-plot", [L, T, W - L - R, H - T - B, TMAX, YMAX].join(" "));
      var old = svg.querySelector(".lo-rt-axes");
      if (old) svg.removeChild(old);
      axes(svg, warm);
      return true;
    }
    function draw() {
      fit(width);
      var beta2 = 1 - Math.pow(10, -Number(slider.value));
      var rule = figure.querySelector("input[type=radio]:checked").value;
      var c = curves(beta2, rule);
      var shown = +beta2.toPrecision(6);
      out.textContent = String(shown);
      slider.setAttribute("aria-valuetext", "beta2 = " + shown);
      curve.setAttribute("d", pathOf(c.steps, c.r));
      warm.setAttribute("d", pathOf(c.steps, c.warmup));
      figure.dataset.beta2 = String(beta2);
      figure.dataset.rule = rule;
      var text = c.first
        ? "First rectified step t = " + c.first.t + ", r = " + c.first.r.toFixed(4) + "."
        : "\u03c1\u209c never passes the threshold: no step is rectified.";
      caption.textContent = "r\u209c (solid) and the linear warmup over 2/(1\u2212\u03b2\u2082) = " +
        Math.round(2 / (1 - beta2)) + " steps (dashed). " + text;
      title.textContent = caption.textContent;
    }
    slider.addEventListener("input", draw);
    fieldset.addEventListener("change", draw);
    // The static figure (its light and dark pictures, when wrapped) gives way to the chart.
    var shown = (img.closest && img.closest(".lo-figure")) || img;
    shown.parentNode.insertBefore(figure, shown.nextSibling);
    shown.classList.add("lo-rt-replaced");
    shape();
    draw();
    // Narrow or widen the plot with its column (a rotated phone, a resized window).
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { if (shape()) draw(); }).observe(figure);
    }
    return figure;
  }

  var api = { smaLength: smaLength, rectification: rectification, curves: curves,
              RULES: RULES, STEPS: STEPS };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  if (typeof document !== "undefined") {
    root.labmlRt = api;
    var start = function () {
      var imgs = document.querySelectorAll("img.lo-rt-chart");
      for (var i = 0; i < imgs.length; i++) build(imgs[i]);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
})(typeof window !== "undefined" ? window : this);
