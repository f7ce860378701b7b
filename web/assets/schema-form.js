// Conditional fields of JSON Schema task forms (web/schema_form.py renders them).
//
// The server renders every field visible and validates every submission; this only helps: it hides a field while
// its condition does not hold (and disables its controls, so a hidden value is not sent), and shows the
// "(verplicht)" marker and aria-required of a conditionally required field while its condition holds.
//
// A conditional wrapper carries `data-toon-als` (and maybe `data-verplicht-als`): a JSON list of alternatives, each
// a list of clauses that must all hold: {"veld": input name, "waarden": [form values], "ookLeeg": true when an
// empty field also satisfies it, "niet": true to negate}.

const SCOPE = "[data-schema-form]";
const CONDITIONAL = "[data-toon-als]";
const DISABLED_HERE = "data-schema-form-uitgeschakeld";

/** The current values of the controls named `name`, as the browser would send them; null when there are none. */
function currentValues(scope, name) {
  const controls = [...scope.querySelectorAll(`[name="${CSS.escape(name)}"]`)];
  if (controls.length === 0) return null;
  const values = [];
  const fallback = [];
  for (const control of controls) {
    if (control.disabled) continue;
    if (control.type === "hidden") {
      // The "false" sent for an unticked single checkbox.
      fallback.push(control.value);
    } else if ((control.type !== "radio" && control.type !== "checkbox") || control.checked) {
      const value = control.value.trim();
      if (value !== "") values.push(value);
    }
  }
  return values.length > 0 ? values : fallback;
}

/** Whether the condition holds; null when a controlling field cannot be edited here (leave the server's view). */
function holds(scope, alternatives) {
  let unknown = false;
  const results = alternatives.map((clauses) =>
    clauses.every((clause) => {
      const values = currentValues(scope, clause.veld);
      if (values === null) {
        unknown = true;
        return false;
      }
      const matches = values.length === 0 ? clause.ookLeeg : values.some((value) => clause.waarden.includes(value));
      return matches !== clause.niet;
    }),
  );
  return unknown ? null : results.some(Boolean);
}

/** The elements matching `selector` that belong to `wrapper` itself, not to a conditional field inside it. */
function own(wrapper, selector) {
  return [wrapper, ...wrapper.querySelectorAll(selector)].filter(
    (element) => element.matches(selector) && element.closest(CONDITIONAL) === wrapper,
  );
}

function setEnabled(wrapper, enabled) {
  for (const control of wrapper.querySelectorAll("input, select, textarea, button")) {
    if (!enabled && !control.disabled) {
      control.disabled = true;
      control.setAttribute(DISABLED_HERE, "");
    } else if (enabled && control.hasAttribute(DISABLED_HERE)) {
      control.disabled = false;
      control.removeAttribute(DISABLED_HERE);
    }
  }
}

/** Bring every conditional field of `scope` in line with the current values; true when something changed. */
function updateOnce(scope) {
  let changed = false;
  // Document order: an outer conditional field is settled before the fields inside it.
  for (const wrapper of scope.querySelectorAll(CONDITIONAL)) {
    const outer = wrapper.parentElement?.closest(CONDITIONAL);
    const condition = holds(scope, JSON.parse(wrapper.dataset.toonAls));
    if (condition === null) continue;
    const visible = condition && !(outer && outer.hidden);
    if (wrapper.hidden === visible) {
      wrapper.hidden = !visible;
      changed = true;
    }
    setEnabled(wrapper, visible);
    if (wrapper.dataset.verplichtAls) {
      const required = visible && holds(scope, JSON.parse(wrapper.dataset.verplichtAls)) === true;
      for (const marker of own(wrapper, "[data-verplicht-markering]")) marker.hidden = !required;
      for (const target of own(wrapper, "[data-verplicht-doel]")) target.setAttribute("aria-required", String(required));
    }
  }
  return changed;
}

function update(scope) {
  // Hiding a field empties what depends on it, possibly earlier in the document: repeat until nothing changes.
  const limit = scope.querySelectorAll(CONDITIONAL).length + 1;
  for (let round = 0; round < limit && updateOnce(scope); round += 1);
}

function init(root) {
  const scopes = root.matches?.(SCOPE) ? [root] : [...root.querySelectorAll(SCOPE)];
  for (const scope of scopes) {
    if (scope.querySelector(CONDITIONAL)) update(scope);
  }
}

function onChange(event) {
  const scope = event.target instanceof Element ? event.target.closest(SCOPE) : null;
  if (scope?.querySelector(CONDITIONAL)) update(scope);
}

document.addEventListener("change", onChange);
document.addEventListener("input", onChange);
// htmx swaps in new content (for example a re-rendered form) and announces it with htmx:load.
document.addEventListener("htmx:load", (event) => init(event.target.closest?.(SCOPE) ?? event.target));
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => init(document), { once: true });
} else {
  init(document);
}
