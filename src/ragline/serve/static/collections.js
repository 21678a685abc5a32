// Picking and creating a collection: the list is what the key may see; creating needs
// an admin key (the server's refusal is shown as it is written).

import { api, collectionPath } from "./api.js";
import { byId, counted, el, showError } from "./dom.js";
import { announce, current, on } from "./state.js";

const LAST_ITEM = "ragline.collection";

const select = byId("collection");
const info = byId("collection-info");
const problem = byId("collection-error");

/** Fill the list of collections and open `preferred` (else the last one opened, else the first). */
export async function loadCollections(preferred) {
  showError(problem, null);
  let names = [];
  try {
    names = (await api("/collections")).collections.map((c) => c.name);
  } catch (error) {
    showError(problem, error);
  }
  select.replaceChildren(...names.map((name) => el("option", { value: name }, name)));
  select.disabled = !names.length;
  const wanted = [preferred, sessionStorage.getItem(LAST_ITEM), names[0]];
  open(wanted.find((name) => name && names.includes(name)) || "");
}

function open(name) {
  select.value = name;
  current.collection = name;
  if (name) sessionStorage.setItem(LAST_ITEM, name);
  announce("collection");
}

async function showInfo() {
  const name = current.collection;
  if (!name) {
    info.textContent = "No collection yet: create one below.";
    return;
  }
  try {
    const found = await api(collectionPath(name));
    if (name !== current.collection) return;
    const counts = `${counted(found.documents, "document")} · ${counted(found.chunks, "chunk")}`;
    info.textContent = `${counts} · ${found.embedder}`;
  } catch (error) {
    info.textContent = "";
    showError(problem, error);
  }
}

async function create(event) {
  event.preventDefault();
  showError(problem, null);
  const input = byId("new-collection");
  const name = input.value.trim();
  try {
    await api("/collections", { method: "POST", json: { name } });
  } catch (error) {
    showError(problem, error);
    return;
  }
  input.value = "";
  await loadCollections(name);
}

export function setUpCollections() {
  select.addEventListener("change", () => open(select.value));
  byId("create-form").addEventListener("submit", create);
  on("collection", showInfo);
  on("documents", showInfo);
}
