// The meeting view (web/overleg/meeting.py): the decisions and the attendance of each agenda item save as they are
// typed. Progressive enhancement: without JavaScript the "Verslag opslaan" button posts the same form.
//
// - a change of the decisions text saves ~800 ms after the last keystroke and on leaving the field; a checkbox at once;
// - what is not saved yet stays in localStorage (per item and the version it started from) until the server has it,
//   so a dropped connection or a reload loses nothing; it is sent again when the browser is back online;
// - a stale edit (409: a colleague saved first) shows their version in the form and keeps one's own text beside it,
//   read-only, to copy from: nothing is overwritten silently.

const DELAY_MS = 800;
const RETRY_MS = 10000;
const STORE_PREFIX = "zvh-overleg-punt-";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
const english = document.documentElement.lang === "en";
const TEXT = english
  ? {
      saving: "Saving…",
      saved: "Saved",
      offline: "Not saved yet: no connection. Your text is kept in this browser and sent when the connection is back.",
      failed: "Not saved. Your text is kept in this browser; it is sent again shortly.",
      signedOut: "Not saved: you are no longer signed in. Your text is kept in this browser; sign in again.",
      theirs: "Their version is now in the form above.",
      yours: "Your text (not saved)",
      restored: "Your unsaved text from earlier is back; it is being saved.",
      drop: "Remove my text",
      older: "You typed this text earlier on this device, but the item has changed since; it was not saved.",
    }
  : {
      saving: "Bezig met opslaan…",
      saved: "Opgeslagen",
      offline: "Nog niet opgeslagen: geen verbinding. Uw tekst blijft in deze browser bewaard en wordt verstuurd zodra de verbinding terug is.",
      failed: "Niet opgeslagen. Uw tekst blijft in deze browser bewaard en wordt zo opnieuw verstuurd.",
      signedOut: "Niet opgeslagen: u bent niet meer ingelogd. Uw tekst blijft in deze browser bewaard; log opnieuw in.",
      theirs: "Hun versie staat nu in het formulier hierboven.",
      yours: "Uw tekst (niet opgeslagen)",
      restored: "Uw nog niet opgeslagen tekst van eerder staat terug en wordt opgeslagen.",
      drop: "Mijn tekst weghalen",
      older: "Deze tekst typte u eerder op dit apparaat, maar het agendapunt is intussen gewijzigd; hij is niet opgeslagen.",
    };

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // private mode or blocked: autosave still works, only the offline copy is missing
  }
}

function clock(iso) {
  const moment = iso ? new Date(iso) : new Date();
  return moment.toLocaleTimeString(english ? "en-GB" : "nl-NL", { hour: "2-digit", minute: "2-digit" });
}

/** Whether two attendance maps say the same (a missing person counts as absent). */
function sameAttendance(one, other) {
  const keys = new Set([...Object.keys(one), ...Object.keys(other)]);
  return [...keys].every((key) => Boolean(one[key]) === Boolean(other[key]));
}

class ItemEditor {
  constructor(form) {
    this.form = form;
    this.key = STORE_PREFIX + form.dataset.item;
    this.url = form.getAttribute("action");
    this.version = Number(form.dataset.version);
    this.textarea = form.querySelector('textarea[name="decision"]');
    this.boxes = [...form.querySelectorAll('input[type="checkbox"][name="aanwezig"]')];
    this.status = form.querySelector("[data-status]");
    this.staleBox = form.querySelector("[data-stale]");
    this.versionInput = form.querySelector("[data-versie]");
    this.timer = null;
    this.retry = null;
    this.busy = false;
    this.again = false;
    this.dirty = false;

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveNow();
    });
    this.textarea?.addEventListener("input", () => {
      this.remember();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.saveNow(), DELAY_MS);
    });
    this.textarea?.addEventListener("blur", () => {
      if (this.dirty) this.saveNow();
    });
    for (const box of this.boxes) {
      box.addEventListener("change", () => {
        this.remember();
        this.saveNow();
        this.presentInOutcome(box);
      });
    }
    this.restore();
  }

  /** The step's form of this item lists the organisations present (the triage's `triagetafel`): follow the
   * attendance there, as the server fills it in when the page is made. */
  presentInOutcome(changed) {
    const organisation = changed.dataset.organisatie;
    const outcome = this.form.closest(".zvh-agenda-item")?.querySelector("form.zvh-outcome");
    if (!organisation || !outcome) return;
    const stillPresent = this.boxes.some((box) => box.checked && box.dataset.organisatie === organisation);
    for (const option of outcome.querySelectorAll('input[type="checkbox"][name="triagetafel"]')) {
      if (option.value !== organisation) continue;
      option.checked = changed.checked || stillPresent;
      option.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  attendance() {
    return Object.fromEntries(this.boxes.map((box) => [box.value, box.checked]));
  }

  /** Keep what the user has now, with the version it is based on, until the server has it. */
  remember() {
    this.dirty = true;
    const entry = { version: this.version, decision: this.textarea?.value ?? "", attendance: this.attendance() };
    try {
      storage()?.setItem(this.key, JSON.stringify(entry));
    } catch {
      // storage full or blocked: nothing more to do
    }
  }

  forget() {
    this.dirty = false;
    storage()?.removeItem(this.key);
  }

  /** After a reload: unsent text of this item comes back (and is sent), or, if the item changed meanwhile, is
   * shown beside it to copy from. */
  restore() {
    let entry = null;
    try {
      entry = JSON.parse(storage()?.getItem(this.key) ?? "null");
    } catch {
      entry = null;
    }
    if (!entry || typeof entry !== "object") return;
    const same =
      entry.decision === (this.textarea?.value ?? "") &&
      JSON.stringify(entry.attendance ?? {}) === JSON.stringify(this.attendance());
    if (same) {
      this.forget();
      return;
    }
    if (entry.version === this.version) {
      if (this.textarea) this.textarea.value = entry.decision ?? "";
      for (const box of this.boxes) {
        if (entry.attendance && box.value in entry.attendance) box.checked = Boolean(entry.attendance[box.value]);
      }
      this.dirty = true;
      this.say(TEXT.restored);
      this.saveNow();
    } else {
      if ((entry.decision ?? "").trim()) this.showOwnText(entry.decision, null, TEXT.older);
      this.forget();
    }
  }

  say(text) {
    if (this.status) this.status.textContent = text;
  }

  setVersion(version) {
    this.version = version;
    this.form.dataset.version = String(version);
    if (this.versionInput) this.versionInput.value = String(version);
  }

  async saveNow(keepalive = false) {
    clearTimeout(this.timer);
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    const sent = { decision: this.textarea?.value ?? "", attendance: this.attendance() };
    this.say(TEXT.saving);
    try {
      const response = await fetch(this.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ version: this.version, ...sent }),
        keepalive,
      });
      const isJson = (response.headers.get("Content-Type") ?? "").includes("application/json");
      const answer = isJson ? await response.json() : null;
      if (response.ok && answer && typeof answer.version === "number") {
        this.setVersion(answer.version);
        const unchanged =
          sent.decision === (this.textarea?.value ?? "") &&
          JSON.stringify(sent.attendance) === JSON.stringify(this.attendance());
        if (unchanged) this.forget();
        else this.remember();
        this.say(`${TEXT.saved} ${clock(answer.saved_at)}`);
      } else if (response.status === 409 && answer && answer.error === "stale") {
        this.stale(answer, sent.decision, sent.attendance);
      } else if (!isJson || response.status === 401) {
        this.say(TEXT.signedOut);
      } else if (answer && answer.message) {
        this.say(answer.message);
        if (response.status >= 500) this.later();
      } else {
        this.say(TEXT.failed);
        this.later();
      }
    } catch {
      this.say(navigator.onLine === false ? TEXT.offline : TEXT.failed);
      this.later();
    } finally {
      this.busy = false;
    }
    if (this.again) {
      this.again = false;
      if (this.dirty) this.saveNow();
    }
  }

  later() {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.dirty) this.saveNow();
    }, RETRY_MS);
  }

  /** A colleague saved first: their version goes into the form, ours stays visible to copy from. */
  stale(answer, ownText, ownAttendance) {
    this.setVersion(answer.version);
    const theirText = answer.decision ?? "";
    if (theirText.trim() === ownText.trim() && sameAttendance(answer.attendance ?? {}, ownAttendance)) {
      // what is stored is what we sent (e.g. our own save as the page was reloaded): nothing to resolve
      this.forget();
      this.say(`${TEXT.saved} ${clock(answer.saved_at)}`);
      return;
    }
    if (this.textarea) this.textarea.value = theirText;
    for (const box of this.boxes) {
      if (answer.attendance && box.value in answer.attendance) box.checked = Boolean(answer.attendance[box.value]);
      else box.checked = false;
    }
    this.forget();
    this.say(answer.message ?? TEXT.theirs);
    if (ownText.trim() && ownText.trim() !== theirText.trim()) this.showOwnText(ownText, answer.updated_by ?? null);
  }

  showOwnText(text, by, note = null) {
    const box = this.staleBox;
    if (!box) return;
    box.replaceChildren();
    const id = `${this.form.dataset.item}-eigen-tekst`;
    const label = document.createElement("label");
    label.className = "utrecht-form-label";
    label.htmlFor = id;
    label.textContent = TEXT.yours;
    const copy = document.createElement("textarea");
    copy.className = "utrecht-textarea utrecht-textarea--html-textarea zvh-stale__eigen";
    copy.id = id;
    copy.readOnly = true;
    copy.rows = 4;
    copy.value = text;
    const hint = document.createElement("p");
    hint.className = "utrecht-paragraph";
    hint.textContent = note ?? (by ? `${TEXT.theirs} (${by})` : TEXT.theirs);
    const drop = document.createElement("button");
    drop.type = "button";
    drop.className = "utrecht-button utrecht-button--subtle";
    drop.textContent = TEXT.drop;
    drop.addEventListener("click", () => {
      box.hidden = true;
      box.replaceChildren();
      this.textarea?.focus();
    });
    box.append(hint, label, copy, drop);
    box.hidden = false;
  }
}

const editors = [...document.querySelectorAll("form[data-autosave]")].map((form) => new ItemEditor(form));
for (const editor of editors) {
  // the plain "save" button is for browsers without JavaScript; here every change saves itself
  const button = editor.form.querySelector("[data-opslaan]");
  if (button) button.hidden = true;
}
window.addEventListener("online", () => {
  for (const editor of editors) if (editor.dirty) editor.saveNow();
});
// Leaving the page with a pending save: send it now (the copy in localStorage stays until the server has it).
window.addEventListener("pagehide", () => {
  for (const editor of editors) if (editor.dirty) editor.saveNow(true);
});

// After a refused outcome or action point (the server shows the page again): focus that item's error summary.
const summary = document.querySelector(".zvh-agenda-item [data-foutoverzicht]");
if (summary) {
  summary.scrollIntoView({ block: "center" });
  summary.focus({ preventScroll: true });
}
