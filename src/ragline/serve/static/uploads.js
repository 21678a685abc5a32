// Uploading files (dropped, or chosen with the file picker) into the open collection:
// each upload is a job on the server, polled until it ends, with its files' progress and
// the reason any file could not be added.

import { api, collectionPath } from "./api.js";
import { byId, counted, el, showError } from "./dom.js";
import { announce, current } from "./state.js";

const POLL_MS = 400;

const zone = byId("drop-zone");
const picker = byId("file-input");
const jobs = byId("jobs");
const problem = byId("upload-error");

async function upload(files) {
  showError(problem, null);
  const name = current.collection;
  if (!files.length) return;
  if (!name) {
    showError(problem, new Error("create or open a collection first"));
    return;
  }
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  let job;
  try {
    job = await api(collectionPath(name, "uploads"), { method: "POST", body: form });
  } catch (error) {
    showError(problem, error);
    return;
  }
  const view = el("li", { className: "job" });
  jobs.prepend(view);
  await follow(name, job, view);
}

async function follow(name, job, view) {
  for (;;) {
    render(job, view);
    if (job.status !== "running") break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      job = await api(collectionPath(name, "jobs", job.id));
    } catch (error) {
      showError(problem, error);
      return;
    }
  }
  if (name === current.collection) announce("documents");
}

function render(job, view) {
  const done = job.status === "running" ? "" : ` · ${job.status}`;
  const summary = `${job.files_done} of ${counted(job.files_total, "file")} · ${counted(job.chunks, "chunk")}${done}`;
  const bar = el("progress", {
    max: job.files_total,
    value: job.files_done,
    "aria-label": "Upload progress",
  });
  const files = el(
    "ul",
    { className: "job-files" },
    ...job.files.map((file) =>
      el(
        "li",
        { className: `file ${file.status}` },
        el("span", { className: "file-name" }, file.name),
        el("span", { className: "file-status" }, file.error ? `error: ${file.error}` : file.status),
      ),
    ),
  );
  const general = job.errors.filter((e) => !e.file).map((e) => el("p", { className: "error" }, e.reason));
  view.dataset.status = job.status;
  view.replaceChildren(el("p", { className: "job-summary" }, summary), bar, files, ...general);
}

export function setUpUploads() {
  byId("choose-files").addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    const files = [...picker.files];
    picker.value = "";
    upload(files);
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    upload([...event.dataTransfer.files]);
  });
}
