// What the page is showing (the open collection) and the news its parts pass on:
// "collection" when another collection is opened, "documents" when its documents changed,
// "refused" (with the server's message) when the server refused the key.

export const current = { collection: "" };

export function announce(news, detail = null) {
  document.dispatchEvent(new CustomEvent(`ragline:${news}`, { detail }));
}

export function on(news, handler) {
  document.addEventListener(`ragline:${news}`, (event) => handler(event.detail));
}
