// Asking the open collection: the answer streams in as the server writes it; when it is
// done, each [n] becomes a button that opens the cited document with the span highlighted,
// marked when the citation failed its support check.

import { collectionPath, streamEvents } from "./api.js";
import { openDocument } from "./docview.js";
import { byId, counted, el, showError } from "./dom.js";
import { showRetrieval } from "./retrieval.js";
import { current } from "./state.js";

const form = byId("ask-form");
const question = byId("question");
const button = byId("ask-button");
const status = byId("ask-status");
const answer = byId("answer");
const sources = byId("citations");
const problem = byId("ask-error");

async function ask(event) {
  event.preventDefault();
  const name = current.collection;
  const text = question.value.trim();
  showError(problem, null);
  answer.replaceChildren();
  sources.replaceChildren();
  showRetrieval([]);
  if (!name) {
    showError(problem, new Error("create or open a collection first"));
    return;
  }
  if (!text) return;
  button.disabled = true;
  status.textContent = "Answering…";
  const streamed = el("p", { className: "streaming" });
  answer.append(streamed);
  try {
    await streamEvents(collectionPath(name, "ask", "stream"), { question: text }, (kind, data) => {
      if (kind === "token") streamed.append(data.text);
      else if (kind === "done") finish(name, data);
      else if (kind === "error") throw new Error(data.error.message);
    });
  } catch (error) {
    showError(problem, error);
  } finally {
    status.textContent = "";
    button.disabled = false;
  }
}

function finish(name, done) {
  answer.replaceChildren(el("p", {}, ...withCitations(name, done.answer, done.citations)));
  const count = done.withheld.length;
  if (count) {
    const what = `${counted(count, "sentence")} withheld: not supported by the passages.`;
    answer.append(el("p", { className: "muted" }, what));
  }
  sources.replaceChildren(...done.citations.map((citation) => sourceItem(name, citation)));
  showRetrieval(done.passages);
}

/** The answer's text with each [n] marker made a button for the citation it stands for. */
function withCitations(name, text, citations) {
  const unused = [...citations];
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const n = Number(match[1]);
    const at = unused.findIndex((c) => c.n === n);
    const citation = at >= 0 ? unused.splice(at, 1)[0] : citations.find((c) => c.n === n);
    if (!citation) continue;
    parts.push(text.slice(last, match.index), citationButton(name, citation, `[${n}]`));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

function citationButton(name, citation, label) {
  const supported = citation.supported;
  const button = el(
    "button",
    {
      type: "button",
      className: supported ? "citation" : "citation unsupported",
      title: supported ? `Open ${citation.doc_id}` : `The support check failed: open ${citation.doc_id}`,
      "aria-label": `Citation ${citation.n}: ${citation.doc_id}${supported ? "" : ", not supported"}`,
    },
    label,
    supported ? null : el("span", { className: "flag", "aria-hidden": "true" }, "⚠"),
  );
  button.addEventListener("click", () => openDocument(name, citation.doc_id, citation, button));
  return button;
}

function sourceItem(name, citation) {
  const verdict = citation.supported
    ? el("span", { className: "verdict" }, "supported")
    : el("span", { className: "verdict unsupported" }, `⚠ not supported${missing(citation)}`);
  return el(
    "li",
    {},
    citationButton(name, citation, `[${citation.n}] ${citation.doc_id}`),
    " ",
    verdict,
  );
}

function missing(citation) {
  return citation.missing.length ? ` (the passage lacks: ${citation.missing.join(", ")})` : "";
}

export function setUpAsk() {
  form.addEventListener("submit", ask);
}
