// Small helpers for building the page: elements from text (never from HTML strings, so
// nothing a document or an answer contains can run as markup) and one-line messages.

export const byId = (id) => document.getElementById(id);

/** A new element: el("button", {type: "button", className: "quiet"}, "Delete"). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node) node[name] = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** Show `error`'s one-line message in the alert paragraph `where` (or clear it with null). */
export function showError(where, error) {
  where.textContent = error ? error.message || String(error) : "";
  where.hidden = !error;
}

/** "1 chunk", "2 chunks". */
export function counted(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
