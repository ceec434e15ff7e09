// 走访名单: the visits a village cadre saves on this phone (issue #14).
// Stored in this browser's localStorage only; nothing here sends anything anywhere.
// The record format is the one in the #14 contract (checker/README.md documents it):
// localStorage "yl-visits-v1" = {"version": 1, "keep_days": 30, "asked": "YYYY-MM-DD"|null, "visits": [VISIT, ...]}
// VISIT = {id, visited, saved, village, name, note, id_number, profile, source, status, summary}
// An ES module with no dependencies.

export const STORAGE_KEY = "yl-visits-v1";
export const DEFAULT_KEEP_DAYS = 30;

const memory = { value: null }; // when localStorage is not available (private mode that forbids it)

function storage() {
  try {
    const s = globalThis.localStorage;
    if (!s) return null;
    return s;
  } catch (e) {
    return null;
  }
}

function emptyStore() {
  return { version: 1, keep_days: DEFAULT_KEEP_DAYS, asked: null, visits: [] };
}

function readStore() {
  const s = storage();
  let text = null;
  try {
    text = s ? s.getItem(STORAGE_KEY) : memory.value;
  } catch (e) {
    text = memory.value;
  }
  if (!text) return emptyStore();
  try {
    const data = JSON.parse(text);
    if (!data || typeof data !== "object" || !Array.isArray(data.visits)) return emptyStore();
    const store = emptyStore();
    const keep = Number(data.keep_days);
    if (Number.isFinite(keep) && keep >= 1) store.keep_days = Math.round(keep);
    store.asked = typeof data.asked === "string" ? data.asked : null;
    store.visits = data.visits.filter((v) => v && typeof v === "object" && typeof v.id === "string");
    return store;
  } catch (e) {
    return emptyStore();
  }
}

function writeStore(store) {
  const text = JSON.stringify(store);
  const s = storage();
  if (s) {
    // A full storage throws (QuotaExceededError): let the caller say so rather than lose the visit silently.
    s.setItem(STORAGE_KEY, text);
  } else {
    memory.value = text;
  }
}

function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  if (globalThis.crypto && globalThis.crypto.getRandomValues) globalThis.crypto.getRandomValues(a);
  else for (let i = 0; i < bytes; i++) a[i] = Math.floor(Math.random() * 256);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Today's date on this device as YYYY-MM-DD (local time, as the cadre reads the calendar). */
export function today(now) {
  const d = now instanceof Date ? now : new Date();
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function clean(v) {
  const out = {
    id: typeof v.id === "string" && v.id ? v.id : "v-" + randomHex(8),
    visited: typeof v.visited === "string" && v.visited ? v.visited : null,
    saved: typeof v.saved === "string" ? v.saved : null,
    village: String(v.village || "").trim(),
    name: String(v.name || "").trim(),
    note: String(v.note || "").trim(),
    id_number: String(v.id_number || "").trim(),
    profile: v.profile && typeof v.profile === "object" ? v.profile : {},
    source: v.source && typeof v.source === "object" ? v.source : null,
    status: v.status === "todo" ? "todo" : "visited",
    summary: String(v.summary || ""),
  };
  // Anything extra a later version adds (questions from a register, an error text) is kept as it is.
  for (const k of Object.keys(v)) if (!(k in out)) out[k] = v[k];
  return out;
}

/** Every visit stored on this device, newest saved first (the order of the stored list). */
export function loadVisits() {
  return readStore().visits.map((v) => ({ ...v }));
}

export function getVisit(id) {
  const v = readStore().visits.find((x) => x.id === id);
  return v ? { ...v } : null;
}

/**
 * Save (add or replace, by id) one visit. Sets id (when missing) and saved (now); a visited
 * entry with no visit date gets today's. Returns the stored visit. Throws when storage is full.
 */
export function saveVisit(v, now) {
  const store = readStore();
  const rec = clean(v || {});
  const when = now instanceof Date ? now : new Date();
  rec.saved = when.toISOString();
  if (rec.status === "visited" && !rec.visited) rec.visited = today(when);
  const i = store.visits.findIndex((x) => x.id === rec.id);
  if (i >= 0) store.visits.splice(i, 1);
  store.visits.unshift(rec);
  writeStore(store);
  return { ...rec };
}

/** Save many visits at once (a register opened as the visit list), in the given order, after those stored. */
export function saveMany(list, now) {
  const store = readStore();
  const when = now instanceof Date ? now : new Date();
  const added = list.map((v) => {
    const rec = clean(v || {});
    rec.saved = when.toISOString();
    return rec;
  });
  const ids = new Set(added.map((r) => r.id));
  store.visits = added.concat(store.visits.filter((x) => !ids.has(x.id)));
  writeStore(store);
  return added.map((r) => ({ ...r }));
}

export function deleteVisit(id) {
  const store = readStore();
  const n = store.visits.length;
  store.visits = store.visits.filter((x) => x.id !== id);
  writeStore(store);
  return store.visits.length < n;
}

/** Delete the visits with these ids (the expired ones, when the cadre says so). */
export function deleteVisits(ids) {
  const drop = new Set(ids);
  const store = readStore();
  store.visits = store.visits.filter((x) => !drop.has(x.id));
  writeStore(store);
}

export function deleteAll() {
  const store = readStore();
  store.visits = [];
  store.asked = null;
  writeStore(store);
  const s = storage();
  if (s) {
    try { s.removeItem(STORAGE_KEY); } catch (e) { /* nothing stored then */ }
  } else {
    memory.value = null;
  }
}

export function countVisits() {
  return readStore().visits.length;
}

export function keepDays() {
  return readStore().keep_days;
}

export function setKeepDays(n) {
  const days = Math.round(Number(n));
  if (!Number.isFinite(days) || days < 1) throw new RangeError("keep_days must be a whole number of days, at least 1");
  const store = readStore();
  store.keep_days = days;
  writeStore(store);
  return days;
}

function dayNumber(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(ymd || ""));
  if (!m) return null;
  return Date.UTC(+m[1], +m[2] - 1, +m[3]) / 86400000;
}

/**
 * The visits older than the kept period: last saved more than keep_days days before `today`
 * (YYYY-MM-DD, or a Date; default: this device's today).
 */
export function expiredVisits(todayDate) {
  const t = dayNumber(todayDate instanceof Date ? today(todayDate) : todayDate || today());
  const store = readStore();
  if (t === null) return [];
  return store.visits
    .filter((v) => {
      const d = dayNumber(v.saved ? today(new Date(v.saved)) : null);
      return d !== null && t - d > store.keep_days;
    })
    .map((v) => ({ ...v }));
}

/** Remember that the cadre was asked today (and chose to keep): do not ask again the same day. */
export function markAsked(todayDate) {
  const store = readStore();
  store.asked = todayDate instanceof Date ? today(todayDate) : todayDate || today();
  writeStore(store);
}

export function askedOn() {
  return readStore().asked;
}

// ---------------------------------------------------------------- a register handed from the 批量排摸 page
// The screening page keeps the chosen register file here (IndexedDB of this site, on this device) and
// opens the checker page at #yl-import, which reads it as the visit list and deletes it at once.

const STASH_DB = "yl-visits-import";

function stashDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(STASH_DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore("files");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function stashDo(mode, fn) {
  return stashDb().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction("files", mode);
    const result = fn(tx.objectStore("files"));
    tx.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : undefined); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  }));
}

/** Keep one register file ({name, bytes: ArrayBuffer}) for the checker page to open as the visit list. */
export function stashRegister(name, bytes) {
  return stashDo("readwrite", (store) => { store.put({ name, bytes, at: new Date().toISOString() }, "register"); });
}

/** The register the screening page left (or null), deleted from the store as it is read. */
export async function takeStashedRegister() {
  const found = await stashDo("readonly", (store) => store.get("register"));
  if (found) await stashDo("readwrite", (store) => { store.delete("register"); });
  return found || null;
}
