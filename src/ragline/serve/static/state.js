// What the page is showing (the open collection) and the news its parts pass on:
// "collection" when another collection is opened, "documents" when its documents changed.

export const current = { collection: "" };

export function announce(news) {
  document.dispatchEvent(new CustomEvent(`ragline:${news}`));
}

export function on(news, handler) {
  document.addEventListener(`ragline:${news}`, () => handler());
}
