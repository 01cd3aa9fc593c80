// The vocabulary the pages need (dataset families and defaults, each optimizer's and
// schedule's fields, the run statuses) comes from the server's schemas, never from a
// copy kept here (issue 9 §1): GET /api/spec/schema and GET /api/events/schema, both
// under "x-descent". A missing key is an error that names it: no silent fallback.
import { api } from "./api.js";
import { setFinalStatuses } from "./socket.js";

export class VocabError extends Error {}

const need = (doc, key, where) => {
  const v = doc?.["x-descent"]?.[key];
  if (v === undefined || v === null) throw new VocabError(`${where} does not publish x-descent.${key}`);
  return v;
};

/** What the spec schema says (pure: tests/js/vocab.test.mjs). */
export function specVocab(specSchema) {
  const spec = "GET /api/spec/schema";
  return {
    optimizerFields: need(specSchema, "optimizer_fields", spec),
    scheduleFields: need(specSchema, "schedule_fields", spec),
    datasetDefaults: need(specSchema, "dataset_defaults", spec),
    datasetFamilies: need(specSchema, "dataset_families", spec),
  };
}

/** What the event schema says about statuses. */
export function eventVocab(eventSchema) {
  const events = "GET /api/events/schema";
  return {
    statuses: need(eventSchema, "statuses", events),
    final: need(eventSchema, "final", events),
    active: need(eventSchema, "active", events),
  };
}

export function vocabFrom(specSchema, eventSchema) {
  return { ...specVocab(specSchema), ...eventVocab(eventSchema) };
}

/** Filled by loadVocab(); modules read it after the page has loaded it. */
export const vocab = { final: [], statuses: [], active: [], datasetFamilies: {}, datasetDefaults: {},
  optimizerFields: {}, scheduleFields: {} };

export function useVocab(v) {
  // arrays are filled in place: modules hold references to them (runview.js TERMINAL)
  for (const [k, val] of Object.entries(v)) {
    if (Array.isArray(val) && Array.isArray(vocab[k])) vocab[k].splice(0, vocab[k].length, ...val);
    else vocab[k] = val;
  }
  setFinalStatuses(v.final);
  return vocab;
}

/**
 * Fetch the schemas; returns {schema (the spec schema document, when asked for), vocab}.
 * A page that only shows runs (needSpec: false) reads the statuses alone.
 */
export async function loadVocab({ needSpec = true } = {}) {
  const [specSchema, eventSchema] = await Promise.all([
    needSpec ? api.schema() : Promise.resolve(null), api.get("/api/events/schema")]);
  const v = needSpec ? vocabFrom(specSchema, eventSchema) : eventVocab(eventSchema);
  return { schema: specSchema, vocab: useVocab(v) };
}

/** Whether a status is final (the run will send nothing more). */
export const isFinal = (status) => vocab.final.includes(status);

/** The family ("2d_classification", "regression", "images", …) a dataset belongs to. */
export function familyOf(dataset) {
  for (const [fam, names] of Object.entries(vocab.datasetFamilies)) if (names.includes(dataset)) return fam;
  return null;
}
