// The app's JavaScript: htmx for partial updates, CSRF for its requests, the idle-session warning, form helpers.
// Everything here is progressive enhancement: every page works without it.
import htmx from "htmx.org";
import "./schema-form.js";

// The CSP forbids inline styles from scripts we do not control and any eval.
htmx.config.includeIndicatorStyles = false;
htmx.config.allowEval = false;
htmx.config.allowScriptTags = false;
window.htmx = htmx;

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";

document.body.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRFToken"] = csrfToken();
});

// Inbox filters apply as soon as they change (the "Filteren" button remains for keyboards without JS).
for (const form of document.querySelectorAll("form[data-auto-submit]")) {
  form.addEventListener("change", () => form.requestSubmit());
}

// "Afdrukken" on the report pages (no inline script: the CSP allows only our own files).
for (const button of document.querySelectorAll("[data-afdrukken]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

// The header's menu: on narrow screens it folds behind the "Menu" button (without JavaScript it stays open).
const menuButton = document.querySelector("[data-menu-knop]");
const menu = document.querySelector("[data-menu]");
if (menuButton && menu) {
  const narrow = window.matchMedia("(max-width: 60rem)");
  const show = (open) => {
    menuButton.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("zvh-menu--dicht", !open);
  };
  const fit = () => {
    menuButton.hidden = !narrow.matches;
    show(!narrow.matches);
  };
  menuButton.addEventListener("click", () => show(menuButton.getAttribute("aria-expanded") !== "true"));
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && narrow.matches) {
      show(false);
      menuButton.focus();
    }
  });
  narrow.addEventListener("change", fit);
  fit();
}

/** The first control a person would type in, inside `element` (or the element itself). */
const firstControl = (element) =>
  element.matches("input:not([type=hidden]), select, textarea, button")
    ? element
    : element.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])");

// After a failed submit: focus the error summary, so it is read first; its links take you into the field itself.
const summary = document.getElementById("foutoverzicht");
if (summary) {
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href^='#']") : null;
    const target = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    const control = target && firstControl(target);
    if (!control) return;
    event.preventDefault();
    const legend = target.closest("fieldset")?.querySelector("legend");
    (target.matches("fieldset") ? legend ?? target : target).scrollIntoView({ block: "center" });
    control.focus({ preventScroll: true });
  });
}

// After "Betrokkene toevoegen" (the server renders the form again, marking the new row): focus its first field.
const newRow = document.querySelector("[data-schema-form] [data-nieuw]");
if (newRow && !summary) {
  const control = firstControl(newRow);
  if (control) {
    newRow.scrollIntoView({ block: "start" });
    control.focus({ preventScroll: true });
  }
}

// Warn two minutes before the idle timeout; "Blijf ingelogd" resets it, the draft button keeps the form. The plural
// forms come from the catalogue (data-bijna-een for one minute, data-bijna for more); "verlopen" once it has expired.
const warning = document.getElementById("sessie-waarschuwing");
if (warning) {
  const text = warning.querySelector("[data-tekst]");
  const stay = warning.querySelector("button");
  const check = async () => {
    try {
      const answer = await fetch("/sessie", { credentials: "same-origin" }).then((r) => r.json());
      if (!answer.ingelogd || answer.resterend <= 0) {
        warning.hidden = false;
        text.textContent = warning.dataset.verlopen;
        if (stay) stay.hidden = true;
        return;
      }
      warning.hidden = answer.resterend > 120;
      if (!warning.hidden) {
        const minutes = Math.max(1, Math.ceil(answer.resterend / 60));
        const message = minutes === 1 ? warning.dataset.bijnaEen : warning.dataset.bijna;
        text.textContent = message.replace("{minuten}", String(minutes));
      }
    } catch {
      // offline: try again next round
    }
  };
  stay?.addEventListener("click", async () => {
    await fetch("/sessie/verlengen", { method: "POST", headers: { "X-CSRFToken": csrfToken() } });
    warning.hidden = true;
  });
  setInterval(check, 30_000);
}
