// A document shown in a dialog, with a cited span highlighted: the passage the citation
// points at, and inside it the cited sentence when the passage holds it word for word.
// Paged documents (PDF) show where each page starts, and the citation's page is the page
// of the cited sentence, by number and by printed label. Escape or Close shuts the dialog
// and puts the focus back where it was.

import { api, collectionPath } from "./api.js";
import { byId, el, showError } from "./dom.js";

const dialog = byId("doc-view");
const title = byId("doc-title");
const meta = byId("doc-meta");
const body = byId("doc-text");
const problem = byId("doc-error");
let opener = null;
let shown = 0; // which call to openDocument the view shows (a later one wins)

/** Open document `docId` of collection `name`; `citation` (or null) says what to highlight. */
export async function openDocument(name, docId, citation, from) {
  const call = ++shown;
  opener = from;
  title.textContent = docId;
  meta.textContent = "";
  body.replaceChildren();
  showError(problem, null);
  if (!dialog.open) dialog.showModal();
  let doc;
  try {
    doc = await api(collectionPath(name, "documents", docId));
  } catch (error) {
    if (call === shown) showError(problem, error);
    return;
  }
  if (call !== shown) return;
  const marks = citation ? cutsOf(doc.text, citation) : [];
  const pages = pagesOf(doc);
  body.replaceChildren(...render(doc.text, marks, pages));
  const cited = marks[marks.length - 1];
  meta.textContent = cited ? describe(citation, pageAt(pages, cited.start)) : "";
  const mark = body.querySelector("mark");
  if (mark) mark.scrollIntoView({ block: "center" });
}

/** The cited passage, and the cited sentence inside it when found: [{start, end, className}]. */
function cutsOf(text, citation) {
  const [start, end] = citation.span;
  if (!(start < end && end <= text.length)) return [];
  const marks = [{ start, end, className: citation.supported ? "cited" : "cited unsupported" }];
  const words = (citation.sentence || "").replace(/\s*\[\d+\]/g, "").replace(/[.!?]+$/, "").trim();
  const at = words ? text.slice(start, end).toLowerCase().indexOf(words.toLowerCase()) : -1;
  if (at >= 0) {
    marks.push({ start: start + at, end: start + at + words.length, className: "sentence" });
  }
  return marks;
}

function pagesOf(doc) {
  const labels = (doc.metadata && doc.metadata.page_labels) || [];
  return (doc.page_starts || []).map((start, i) => ({
    start,
    number: i + 1,
    label: labels[i] || String(i + 1),
  }));
}

function pageAt(pages, offset) {
  return pages.filter((page) => page.start <= offset).pop() || null;
}

function pageName(page) {
  const number = `page ${page.number}`;
  return page.label === String(page.number) ? number : `page ${page.label} (${number} of the file)`;
}

function describe(citation, page) {
  const where = [`Citation [${citation.n}]`];
  where.push(page ? pageName(page) : `characters ${citation.span[0]}–${citation.span[1]}`);
  where.push(citation.supported ? "supported by this passage" : "⚠ the support check failed");
  return where.join(" · ");
}

/** The text as nodes: each mark inside the one before it, a line where each page starts. */
function render(text, marks, pages) {
  const root = el("div");
  const open = [root];
  // At one offset: marks close first, then a page starts, then marks open.
  const events = [
    ...marks.map((mark) => ({ at: mark.end, order: 0, close: true })),
    ...pages.map((page) => ({ at: page.start, order: 1, page })),
    ...marks.map((mark) => ({ at: mark.start, order: 2, mark })),
  ].sort((a, b) => a.at - b.at || a.order - b.order);
  let last = 0;
  for (const event of events) {
    const inner = open[open.length - 1];
    inner.append(text.slice(last, event.at));
    last = event.at;
    if (event.close) open.pop();
    else if (event.page) inner.append(el("span", { className: "page-start" }, pageName(event.page)));
    else open.push(inner.appendChild(el("mark", { className: event.mark.className })));
  }
  root.append(text.slice(last));
  return [...root.childNodes];
}

export function setUpDocumentView() {
  byId("doc-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
}
