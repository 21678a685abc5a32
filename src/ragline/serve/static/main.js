// The page's start: the key form (the key is kept in sessionStorage, for this tab only),
// then every part set up and the collections loaded.

import { setUpAsk } from "./ask.js";
import { api, storedKey, storeKey } from "./api.js";
import { loadCollections, setUpCollections } from "./collections.js";
import { setUpDocuments } from "./documents.js";
import { setUpDocumentView } from "./docview.js";
import { byId, showError } from "./dom.js";
import { setUpRetrieval } from "./retrieval.js";
import { on } from "./state.js";
import { setUpUploads } from "./uploads.js";

function showWorkspace(withKey) {
  byId("key-form").hidden = withKey;
  byId("key-status").hidden = !withKey;
  byId("welcome").hidden = withKey;
  byId("workspace").hidden = !withKey;
}

async function useKey(event) {
  event.preventDefault();
  const input = byId("key");
  const problem = byId("error");
  showError(problem, null);
  storeKey(input.value.trim());
  try {
    await api("/collections");
  } catch (error) {
    forgetKey(error);
    return;
  }
  input.value = "";
  showWorkspace(true);
  await loadCollections();
  const select = byId("collection");
  (select.disabled ? byId("new-collection") : select).focus();
}

/** Back to the key form, with `error` (the server's refusal) shown, or none. */
function forgetKey(error = null) {
  const view = byId("doc-view");
  if (view.open) view.close();
  storeKey("");
  showError(byId("error"), error);
  showWorkspace(false);
  byId("key").focus();
}

setUpCollections();
setUpDocuments();
setUpDocumentView();
setUpUploads();
setUpAsk();
setUpRetrieval();
byId("key-form").addEventListener("submit", useKey);
byId("forget-key").addEventListener("click", () => forgetKey());
on("refused", forgetKey);
showWorkspace(Boolean(storedKey()));
if (storedKey()) loadCollections();
