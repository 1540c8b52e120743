// keras-nst serve: the form that queues runs, and the list of runs.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const withToken = (path) => `${path}?token=${encodeURIComponent(token)}`;
const uploads = { content: null, style: null };
const message = document.getElementById("form-message");

function fillSelect(select, names, empty) {
  const none = document.createElement("option");
  none.value = "";
  none.textContent = empty;
  select.appendChild(none);
  for (const name of names) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = name;
    select.appendChild(option);
  }
}

async function loadOptions() {
  const response = await fetch(withToken("/api/options"));
  const options = await response.json();
  fillSelect(document.getElementById("content-example"), options.examples,
             "(an example)");
  fillSelect(document.getElementById("style-example"), options.examples,
             "(an example)");
  const preset = document.getElementById("preset");
  for (const name of options.presets) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    preset.appendChild(option);
  }
  document.getElementById("size").max = options.max_size;
  document.getElementById("iterations").max = options.max_iterations;
  const guess = (pattern) => options.examples.find((n) => pattern.test(n));
  document.getElementById("content-example").value =
    guess(/astronaut|chelsea/) || "";
  document.getElementById("style-example").value =
    guess(/starry|scream/) || "";
}

async function upload(role, file) {
  uploads[role] = null;
  message.textContent = `Uploading the ${role} image...`;
  const response = await fetch(withToken("/api/uploads"), {
    method: "POST", body: file,
  });
  const answer = await response.json().catch(() => ({
    error: `The server refused the upload (${response.status}).`,
  }));
  if (!response.ok) {
    message.textContent = `The ${role} image: ${answer.error}`;
    document.getElementById(`${role}-file`).value = "";
    return;
  }
  uploads[role] = answer.id;
  message.textContent =
    `The ${role} image: ${answer.width} x ${answer.height} px.`;
}

for (const role of ["content", "style"]) {
  document.getElementById(`${role}-file`).addEventListener("change",
    (event) => {
      const file = event.target.files[0];
      if (file) upload(role, file);
    });
}

function choice(role) {
  if (uploads[role]) return `upload:${uploads[role]}`;
  const example = document.getElementById(`${role}-example`).value;
  return example ? `example:${example}` : null;
}

document.getElementById("new-run").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {
    content: choice("content"),
    style: choice("style"),
    preset: document.getElementById("preset").value,
    size: parseInt(document.getElementById("size").value, 10),
    iterations: parseInt(document.getElementById("iterations").value, 10),
  };
  const response = await fetch(withToken("/api/jobs"), {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
  const answer = await response.json();
  message.textContent = response.ok ? `Run ${answer.id} queued.`
                                    : answer.error;
  refresh();
});

function cell(row, text) {
  row.insertCell().textContent = text;
}

async function refresh() {
  const response = await fetch(withToken("/api/jobs"));
  if (!response.ok) return;
  const jobs = await response.json();
  const table = document.getElementById("runs");
  while (table.rows.length) table.deleteRow(0);
  document.getElementById("no-runs").hidden = jobs.length > 0;
  for (const job of jobs) {
    const row = table.insertRow();
    row.id = `run-${job.id}`;
    cell(row, `#${job.id}`);
    cell(row, `${job.content} in the style of ${job.style}`);
    cell(row, `${job.preset}, ${job.size} px, ${job.iterations} it.`);
    const steps = job.total_steps ? ` ${job.step}/${job.total_steps}` : "";
    cell(row, job.status + (job.status === "running" ? steps : ""));
    const links = row.insertCell();
    const watch = document.createElement("a");
    watch.href = `/job?token=${encodeURIComponent(token)}&id=${job.id}`;
    watch.textContent = "watch";
    watch.className = "watch";
    links.appendChild(watch);
    if (job.result) {
      const download = document.createElement("a");
      download.href = withToken(`/api/jobs/${job.id}/result`);
      download.textContent = "download";
      download.className = "download";
      links.append(" ", download);
    }
    if (job.message) cell(row, job.message);
  }
}

loadOptions().then(refresh);
setInterval(refresh, 2000);
