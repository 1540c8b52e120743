// The live view: polls the run's state once a second and redraws.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
// One run's page (transfer --web), or one queued run's (serve: ?id=N).
const base = params.get("id") ? `/api/jobs/${parseInt(params.get("id"), 10)}/`
                              : "/api/";
const api = (name, extra = "") =>
  `${base}${name}?token=${encodeURIComponent(token)}${extra}`;
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = { total: "#1d2330", content: "#1e88e5", style: "#e53935",
                  tv: "#43a047" };
const SYMBOLS = { content: "\u03b1", style: "\u03b2", tv: "\u03b3" };
const records = [];
let shownVersion = 0;
let weights = {};
let settingsShown = false;
let resultShown = false;
let timer = null;

function compact(value) {
  if (!Number.isFinite(value)) return String(value);
  let text = value.toPrecision(3);
  if (text.includes("e")) {
    const [mantissa, exponent] = text.split("e");
    text = `${parseFloat(mantissa)}e${parseInt(exponent, 10)}`;
  } else {
    text = String(parseFloat(text));
  }
  return text;
}

// "2 / 3" for a step in the second of three scales, "-" for one scale.
function scaleOf(schedule, step) {
  if (!schedule || schedule.length < 2) return "-";
  let end = 0;
  for (let i = 0; i < schedule.length; i++) {
    end += schedule[i][0];
    if (Math.max(step, 1) <= end || i === schedule.length - 1) {
      return `${i + 1} / ${schedule.length}`;
    }
  }
  return "-";
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  seconds = Math.round(seconds);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, value);
  }
  parent.appendChild(node);
  return node;
}

// One chart: a line per series, log scale when every value is positive.
function chart(svg, series) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const width = 480, height = 250, left = 58, right = 10, top = 26,
        bottom = 36;
  const points = series.flatMap((s) => s.points);
  if (!points.length) return;
  const positive = points.every(([, y]) => y > 0);
  const fy = positive ? Math.log10 : (y) => y;
  const xs = points.map(([x]) => x), ys = points.map(([, y]) => fy(y));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const px = (x) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const py = (y) => top + (1 - (fy(y) - y0) / (y1 - y0)) *
                          (height - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const value = y0 + ((y1 - y0) * i) / 4;
    const y = top + (1 - i / 4) * (height - top - bottom);
    element("line", { x1: left, x2: width - right, y1: y, y2: y,
                      class: "grid" }, svg);
    const label = element("text", { x: left - 6, y: y + 4,
                                    "text-anchor": "end", class: "label" },
                          svg);
    label.textContent = compact(positive ? 10 ** value : value);
  }
  for (let i = 0; i <= 4; i++) {
    const step = x0 + ((x1 - x0) * i) / 4;
    const label = element("text", { x: px(step), y: height - bottom + 16,
                                    "text-anchor": "middle", class: "label" },
                          svg);
    label.textContent = String(Math.round(step));
  }
  const axisLabel = element("text", { x: (left + width) / 2, y: height - 4,
                                      "text-anchor": "middle",
                                      class: "label" }, svg);
  axisLabel.textContent = "step";
  let legendX = left + 6;
  for (const s of series) {
    if (!s.points.length) continue;
    const path = s.points.map(([x, y], i) =>
      `${i ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join("");
    element("path", { d: path, fill: "none", stroke: s.colour,
                      "stroke-width": 1.8 }, svg);
    const key = element("text", { x: legendX, y: 14, fill: s.colour }, svg);
    key.textContent = s.label;
    legendX += 12 + 7.2 * s.label.length;
  }
}

function drawCurves() {
  const names = ["total", "content", "style", "tv"];
  const weighted = [], unweighted = [];
  for (const name of names) {
    const points = records.filter((r) => name in r).map((r) => [r.step,
                                                                 r[name]]);
    if (name === "total") {
      weighted.push({ label: "loss", colour: COLOURS.total, points });
      continue;
    }
    const weight = weights[name];
    if (weight !== undefined && weight > 0) {
      weighted.push({ label: `${SYMBOLS[name]}\u00b7${name}`,
                      colour: COLOURS[name],
                      points: points.map(([x, y]) => [x, y * weight]) });
    }
    unweighted.push({ label: name, colour: COLOURS[name],
                      points: normalise(points) });
  }
  chart(document.getElementById("weighted"), weighted);
  chart(document.getElementById("unweighted"), unweighted);
}

// Each term relative to its first value, so the three share one axis.
function normalise(points) {
  const first = points.length ? points.find(([, y]) => y !== 0) : null;
  if (!first) return points;
  return points.map(([x, y]) => [x, y / first[1]]);
}

function showSettings(settings) {
  const table = document.getElementById("settings");
  for (const [key, value] of Object.entries(settings)) {
    const row = table.insertRow();
    row.insertCell().textContent = key;
    row.insertCell().textContent =
      typeof value === "string" ? value : JSON.stringify(value);
  }
  settingsShown = true;
}

async function showResult(name) {
  const response = await fetch(api("result"));
  if (!response.ok) return;
  const blob = await response.blob();
  const link = document.getElementById("download");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  const picture = /\.(png|jpe?g)$/i.test(name);
  link.textContent = picture ? `Download ${name} (with its settings)`
                             : `Download ${name}`;
  link.hidden = false;
  if (picture) document.getElementById("picture").src = link.href;
  resultShown = true;
}

function setStatus(status) {
  const badge = document.getElementById("status");
  badge.textContent = status;
  badge.className = `status ${status}`;
}

async function pollOnce() {
  let state;
  try {
    const response = await fetch(api("state", `&since=${records.length}`));
    if (!response.ok) throw new Error(String(response.status));
    state = await response.json();
  } catch (error) {
    setStatus("gone");
    document.getElementById("message").textContent =
      "The run has ended and its server is closed.";
    document.getElementById("stop").disabled = true;
    clearInterval(timer);
    return;
  }
  records.push(...state.records);
  weights = state.loss_weights;
  setStatus(state.status);
  if (!settingsShown) showSettings(state.settings);
  const total = state.total_steps;
  document.getElementById("step").textContent =
    total ? `${state.step} / ${total}` : String(state.step);
  document.getElementById("scale").textContent =
    scaleOf(state.schedule, state.step);
  document.getElementById("size").textContent =
    state.size ? `${state.size[1]} x ${state.size[0]} px` : "-";
  document.getElementById("elapsed").textContent = duration(state.elapsed);
  document.getElementById("left").textContent = duration(state.seconds_left);
  const bar = document.getElementById("bar");
  if (total) bar.value = state.step / total;
  document.getElementById("message").textContent = state.message;
  if (state.image_version !== shownVersion && !resultShown) {
    shownVersion = state.image_version;
    document.getElementById("picture").src =
      api("image", `&v=${shownVersion}`);
    document.getElementById("no-picture").hidden = true;
  }
  if (state.records.length) drawCurves();
  const ended = state.status === "done" || state.status === "failed";
  if (ended || state.status === "stopping") {
    document.getElementById("stop").disabled = true;
  }
  if (state.result && !resultShown) await showResult(state.result_name);
  if (ended) clearInterval(timer);
}

let busy = false;
async function poll() {
  if (busy) return;
  busy = true;
  try {
    await pollOnce();
  } finally {
    busy = false;
  }
}

document.getElementById("stop").addEventListener("click", async () => {
  document.getElementById("stop").disabled = true;
  await fetch(api("stop"), { method: "POST" });
  poll();
});
poll();
timer = setInterval(poll, 1000);
