// A document shown in a dialog, with a cited span highlighted: the passage the citation
// points at, and inside it the cited sentence when the passage holds it word for word.
// Escape or Close shuts the dialog and puts the focus back where it was.

import { api, collectionPath } from "./api.js";
import { byId, el, showError } from "./dom.js";

const dialog = byId("doc-view");
const title = byId("doc-title");
const meta = byId("doc-meta");
const body = byId("doc-text");
const problem = byId("doc-error");
let opener = null;

/** Open document `docId` of collection `name`; `citation` (or null) says what to highlight. */
export async function openDocument(name, docId, citation, from) {
  opener = from;
  title.textContent = docId;
  meta.textContent = citation ? describe(citation) : "";
  body.replaceChildren();
  showError(problem, null);
  if (!dialog.open) dialog.showModal();
  let doc;
  try {
    doc = await api(collectionPath(name, "documents", docId));
  } catch (error) {
    showError(problem, error);
    return;
  }
  body.replaceChildren(...highlighted(doc.text, citation));
  const mark = body.querySelector("mark");
  if (mark) mark.scrollIntoView({ block: "center" });
}

function describe(citation) {
  const where = [`Citation [${citation.n}]`, `characters ${citation.span[0]}–${citation.span[1]}`];
  if (citation.page) {
    const label = citation.page_label && citation.page_label !== String(citation.page);
    where.push(label ? `page ${citation.page_label} (page ${citation.page} of the file)` : `page ${citation.page}`);
  }
  where.push(citation.supported ? "supported by this passage" : "⚠ the support check failed");
  return where.join(" · ");
}

function highlighted(text, citation) {
  if (!citation) return [text];
  const [start, end] = citation.span;
  const passage = text.slice(start, end);
  const span = el("mark", { className: citation.supported ? "cited" : "cited unsupported" });
  const at = sentenceAt(passage, citation.sentence);
  if (at) {
    span.append(
      passage.slice(0, at[0]),
      el("mark", { className: "sentence" }, passage.slice(at[0], at[1])),
      passage.slice(at[1]),
    );
  } else {
    span.append(passage);
  }
  return [text.slice(0, start), span, text.slice(end)];
}

function sentenceAt(passage, sentence) {
  const words = (sentence || "").replace(/\s*\[\d+\]/g, "").replace(/[.!?]+$/, "").trim();
  if (!words) return null;
  const at = passage.toLowerCase().indexOf(words.toLowerCase());
  return at < 0 ? null : [at, at + words.length];
}

export function setUpDocumentView() {
  byId("doc-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
}
