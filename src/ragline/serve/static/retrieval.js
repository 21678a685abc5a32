// The retrieval panel: for each passage an answer was given, its position and score in
// each ranking the hit carries (ranks/scores: "bm25", "dense"; after a re-ranker,
// "first_stage" is the fused ranking and "rerank" the re-ranker's). Without a re-ranker
// the fused ranking is the hit's own rank and score.

import { byId, el } from "./dom.js";

const toggle = byId("retrieval-toggle");
const panel = byId("retrieval");
const rows = panel.querySelector("tbody");
const note = byId("retrieval-note");

const COLUMNS = [
  ["BM25", (p) => [p.ranks.bm25, p.scores.bm25]],
  ["Dense", (p) => [p.ranks.dense, p.scores.dense]],
  ["Fused", fused],
  ["Re-rank", (p) => [p.ranks.rerank, p.scores.rerank]],
];

function fused(passage) {
  if (passage.source !== "hybrid") return [undefined, undefined];
  const { ranks, scores } = passage;
  return "first_stage" in ranks ? [ranks.first_stage, scores.first_stage] : [passage.rank, passage.score];
}

/** "#3 · 0.6290" for a position and its score, "—" when the passage is not in that ranking. */
function position([rank, score]) {
  if (rank === undefined || rank === null) return "—";
  return typeof score === "number" ? `#${rank} · ${formatScore(score)}` : `#${rank}`;
}

function formatScore(score) {
  const size = Math.abs(score);
  if (size !== 0 && (size < 0.0001 || size >= 10000)) return score.toExponential(2);
  return score.toFixed(4);
}

/** Show the passages of an answer (or hide the panel's button when there are none). */
export function showRetrieval(passages) {
  rows.replaceChildren(...passages.map(row));
  const reranked = passages.some((p) => "rerank" in p.ranks);
  note.textContent = passages.length && !reranked ? "This collection has no re-ranker." : "";
  toggle.hidden = !passages.length;
  if (!passages.length) setOpen(false);
}

function row(passage) {
  const snippet = passage.text.length > 160 ? `${passage.text.slice(0, 160)}…` : passage.text;
  const cells = COLUMNS.map(([label, pick]) => el("td", { dataset: { label } }, position(pick(passage))));
  return el(
    "tr",
    {},
    el("td", { dataset: { label: "#" } }, String(passage.n)),
    el("td", { dataset: { label: "Passage" } }, el("strong", {}, passage.doc_id), " ", snippet),
    ...cells,
  );
}

function setOpen(open) {
  panel.hidden = !open;
  toggle.setAttribute("aria-expanded", String(open));
  toggle.textContent = open ? "Hide retrieval" : "Show retrieval";
}

export function setUpRetrieval() {
  toggle.addEventListener("click", () => setOpen(panel.hidden));
}
