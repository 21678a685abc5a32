// The open collection's documents, a page at a time: open one, or delete it.

import { api, collectionPath } from "./api.js";
import { openDocument } from "./docview.js";
import { byId, counted, el, showError } from "./dom.js";
import { announce, current, on } from "./state.js";

const PAGE = 50;

const list = byId("documents");
const count = byId("documents-count");
const more = byId("documents-more");
const problem = byId("documents-error");

async function loadPage(offset) {
  const name = current.collection;
  showError(problem, null);
  if (!offset) list.replaceChildren();
  more.hidden = true;
  count.textContent = "";
  if (!name) return;
  let page;
  try {
    page = await api(`${collectionPath(name, "documents")}?limit=${PAGE}&offset=${offset}`);
  } catch (error) {
    showError(problem, error);
    return;
  }
  if (name !== current.collection) return;
  list.append(...page.documents.map((doc) => item(name, doc)));
  count.textContent = `(${page.total})`;
  more.hidden = offset + page.documents.length >= page.total;
  more.onclick = () => loadPage(offset + PAGE);
  if (!page.total) list.append(el("li", { className: "muted" }, "No documents yet."));
}

function item(name, doc) {
  const view = el("button", { type: "button", className: "link" }, doc.id);
  view.addEventListener("click", () => openDocument(name, doc.id, null, view));
  const remove = el(
    "button",
    { type: "button", className: "quiet danger", "aria-label": `Delete ${doc.id}` },
    "Delete",
  );
  remove.addEventListener("click", () => deleteDocument(name, doc.id, remove));
  const chunks = el("span", { className: "muted" }, counted(doc.chunks, "chunk"));
  return el("li", {}, view, chunks, remove);
}

async function deleteDocument(name, docId, button) {
  showError(problem, null);
  button.disabled = true;
  try {
    await api(collectionPath(name, "documents", docId), { method: "DELETE" });
  } catch (error) {
    button.disabled = false;
    showError(problem, error);
    return;
  }
  announce("documents");
}

export function setUpDocuments() {
  on("collection", () => loadPage(0));
  on("documents", () => loadPage(0));
}
