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

// Warn two minutes before the idle timeout; "Blijf ingelogd" resets it, the draft button keeps the form.
const warning = document.getElementById("sessie-waarschuwing");
if (warning) {
  const check = async () => {
    try {
      const answer = await fetch("/sessie", { credentials: "same-origin" }).then((r) => r.json());
      if (!answer.ingelogd) {
        warning.hidden = false;
        warning.querySelector("[data-tekst]").textContent = warning.dataset.verlopen;
        return;
      }
      warning.hidden = answer.resterend > 120;
      if (!warning.hidden) {
        const minutes = Math.max(1, Math.ceil(answer.resterend / 60));
        warning.querySelector("[data-tekst]").textContent = warning.dataset.bijna.replace("{minuten}", minutes);
      }
    } catch {
      // offline: try again next round
    }
  };
  warning.querySelector("button")?.addEventListener("click", async () => {
    await fetch("/sessie/verlengen", { method: "POST", headers: { "X-CSRFToken": csrfToken() } });
    warning.hidden = true;
  });
  setInterval(check, 30_000);
}
