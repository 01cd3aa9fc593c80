// A student's playground follows their room (issue 10 §3): what the teacher pushes is
// loaded into the form, with a notice and the lesson banner, and the fields the teacher
// locked are disabled. The server enforces the locks when a run is created
// (webapp/rooms/signals.py); this only shows them.
// Polls GET /api/rooms/current with If-None-Match: while nothing changed the answer is an
// empty 304, so thirty students cost thirty tiny requests every two seconds.
// Never overwrites the student's own edits: if the form changed since the last push
// (or since the page opened), or the page opened on a link's setup, the push is offered
// with a button instead.
import { h } from "./dom.js";
import { encodeSpec } from "./urlstate.js";
import { describePath } from "./paths.js";

const FAST_MS = 2000;   // in an open room, tab visible
const SLOW_MS = 20000;  // in no room, a closed one, or a hidden tab
const LOCK_NOTE = "locked by your teacher";
const FREE_ALWAYS = ["/name"];

const store = {
  get(key) { try { return JSON.parse(sessionStorage.getItem(key)); } catch { return null; } },
  set(key, value) { try { sessionStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ } },
};

/** Whether a field at `path` may change under the unlocked pointers (the server's rule). */
export function isFree(path, unlocked) {
  if (!path) return false;
  return [...unlocked, ...FREE_ALWAYS].some((u) => path === u || path.startsWith(`${u}/`));
}

export class RoomLink {
  /**
   * @param builder  the playground's Builder
   * @param opts {showLesson(lesson), onLoaded(spec), announce(text) (a toast: the bar may be scrolled
   *   away on a phone), els: {bar, notice, load, locks, presets}}
   */
  constructor(builder, { showLesson, onLoaded, announce, els }) {
    this.builder = builder;
    this.showLesson = showLesson;
    this.onLoaded = onLoaded || (() => {});
    this.announce = announce || (() => {});
    this.els = els;
    this.etag = null;
    this.room = null;
    this.pending = null;   // a push not loaded because the student had changed the form
    this.unlocked = null;  // null: nothing locked
    this.timer = 0;
    this.baseline = null;  // the form as the page (or the last push) left it
    els.load.addEventListener("click", () => this.pending && this.load(this.pending));
    new MutationObserver(() => this.paintLocks()).observe(builder.root, { childList: true, subtree: true });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) this.poll(); });
  }

  current() { return encodeSpec(this.builder.output()); }
  key(what) { return `descent.room.${this.room?.code}.${what}`; }

  start() {
    this.pageSpec = this.current();
    // a page opened on a link's setup (#spec=) keeps it: a push made before it opened is offered
    this.openedOnLink = /[#&]spec=/.test(location.hash);
    this.poll();
    return this;
  }

  async poll() {
    clearTimeout(this.timer);
    if (this.polling) return;
    this.polling = true;
    try {
      const res = await fetch("/api/rooms/current", { credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json", ...(this.etag ? { "If-None-Match": this.etag } : {}) } });
      if (res.status === 200) {
        const body = await res.json();
        this.etag = res.headers.get("ETag");
        this.update(body.room);
      }
    } catch { /* offline a moment: the next poll */ }
    this.polling = false;
    const live = this.room && !this.room.closed && !document.hidden;
    this.timer = setTimeout(() => this.poll(), live ? FAST_MS : SLOW_MS);
  }

  update(room) {
    const joinedNow = room && room.code !== this.room?.code;
    this.room = room;
    if (!room) { this.setLocks(null); this.els.bar.hidden = true; return; }
    // 1. what "unchanged" means: the form as the last push loaded it in this tab, else as the page opened
    if (joinedNow) this.baseline = store.get(this.key("baseline")) ?? this.pageSpec;
    const applied = store.get(this.key("applied"));
    if (room.closed) {
      this.setLocks(null);
      this.say(`Room ${room.code} is closed: every field is yours again.`);
      return;
    }
    // 2. a new push: load it, or offer it if the student has edits of their own
    if (room.lesson && room.push_seq !== applied) {
      const pristine = this.current() === this.baseline && !(joinedNow && this.openedOnLink);
      if (pristine) this.load(room);
      else this.offer(room);
    } else if (room.lesson && joinedNow) {
      this.showLesson(room.lesson); // already loaded in this tab before a reload: keep the banner
      this.say(`Room ${room.code}: ${room.lesson.title}`);
    } else if (!room.lesson) {
      this.say(`Room ${room.code}: your teacher has not sent a lesson yet.`);
    }
    // 3. the locks (after a load, so that they apply to the lesson's form)
    this.setLocks(room.locked && room.lesson ? room.unlocked || [] : null);
  }

  load(room) {
    this.pending = null;
    this.builder.load(room.lesson.spec);
    this.baseline = this.current();
    store.set(this.key("baseline"), this.baseline);
    store.set(this.key("applied"), room.push_seq);
    this.showLesson(room.lesson);
    this.onLoaded(this.builder.output());
    this.say(`Your teacher loaded ${room.lesson.title}`);
    this.announce(`Your teacher loaded ${room.lesson.title}`);
    this.setLocks(room.locked ? room.unlocked || [] : null);
  }

  offer(room) {
    this.pending = room;
    this.say(`Your teacher sent ${room.lesson.title}. You have changed the setup, so it was not loaded.`, true);
    this.announce(`Your teacher sent ${room.lesson.title}: press "Load the teacher's setup" to use it.`);
  }

  say(text, offer = false) {
    const { bar, notice, load } = this.els;
    bar.hidden = false;
    if (notice.textContent !== text) notice.textContent = text;
    load.hidden = !offer;
    bar.dataset.state = offer ? "offer" : "ok";
  }

  // ---- locked fields

  setLocks(unlocked) {
    const same = JSON.stringify(unlocked) === JSON.stringify(this.unlocked);
    this.unlocked = unlocked;
    const { locks, presets } = this.els;
    if (!same) {
      locks.hidden = !unlocked;
      if (unlocked) {
        const open = unlocked.map(describePath);
        locks.replaceChildren(h("strong", {}, "Greyed-out fields are locked by your teacher. "),
          open.length ? `You may change: ${open.join(", ")}.` : "Just press Train.");
      }
    }
    if (presets) {
      presets.disabled = !!unlocked;
      presets.title = unlocked ? LOCK_NOTE : "";
    }
    this.paintLocks();
  }

  /** Disable every control outside the unlocked pointers; idempotent (the builder re-renders). */
  paintLocks() {
    const unlocked = this.unlocked;
    for (const el of this.builder.root.querySelectorAll("input, select, textarea, button")) {
      const path = el.closest("[data-path]")?.dataset.path;
      const lock = !!unlocked && !isFree(path, unlocked);
      if (lock && !el.dataset.roomLocked) {
        el.dataset.roomLocked = el.disabled ? "was-disabled" : "1";
        el.disabled = true;
        el.title = LOCK_NOTE;
      } else if (!lock && el.dataset.roomLocked) {
        el.disabled = el.dataset.roomLocked === "was-disabled";
        delete el.dataset.roomLocked;
        if (el.title === LOCK_NOTE) el.removeAttribute("title");
      }
    }
    // a section none of whose controls is free says so in its heading
    for (const sec of this.builder.root.querySelectorAll("details.section")) {
      const controls = sec.querySelectorAll("input, select, textarea, button");
      const all = !!unlocked && controls.length > 0 && [...controls].every((c) => c.dataset.roomLocked);
      const tag = sec.querySelector(":scope > summary > .lock-tag");
      if (all && !tag) sec.querySelector(":scope > summary").append(h("span", { class: "lock-tag" }, LOCK_NOTE));
      else if (!all && tag) tag.remove();
    }
  }
}
