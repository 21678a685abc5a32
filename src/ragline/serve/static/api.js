// Calls to the ragline API of this server, with the key kept for this tab.
//
// Every call sends "Authorization: Bearer <key>". An error reply becomes an ApiError
// carrying the one-line message the server wrote ({"error": {"message": ...}}); a refused
// key (401) is also announced, so the page can ask for another.

import { announce } from "./state.js";

const KEY_ITEM = "ragline.key";

export class ApiError extends Error {}

export function storedKey() {
  return sessionStorage.getItem(KEY_ITEM) || "";
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

export function collectionPath(name, ...rest) {
  return ["/collections", name, ...rest].map((part, i) => (i ? encodeURIComponent(part) : part)).join("/");
}

async function send(path, { method = "GET", json, body } = {}) {
  const headers = { Authorization: `Bearer ${storedKey()}` };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch (error) {
    throw new ApiError(`cannot reach the server: ${error.message}`);
  }
  if (!response.ok) {
    const error = new ApiError(await errorMessage(response));
    if (response.status === 401) announce("refused", error);
    throw error;
  }
  return response;
}

async function errorMessage(response) {
  try {
    const reply = await response.json();
    if (reply && reply.error && reply.error.message) return reply.error.message;
  } catch (_) {
    // not JSON: fall back to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}

/** The JSON reply of a call; throws ApiError with the server's message. */
export async function api(path, options) {
  const response = await send(path, options);
  return response.json();
}

/** POST `json` to `path` and hand each server-sent event to onEvent(name, data).
 *  (fetch and a stream reader, since EventSource cannot send the key.) */
export async function streamEvents(path, json, onEvent) {
  const response = await send(path, { method: "POST", json });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      dispatch(buffered.slice(0, end), onEvent);
      buffered = buffered.slice(end + 2);
    }
  }
  if (buffered.trim()) dispatch(buffered, onEvent);
}

function dispatch(block, onEvent) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length) onEvent(name, JSON.parse(data.join("\n")));
}
