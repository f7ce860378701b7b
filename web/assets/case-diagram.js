// The case page's diagram: bpmn-js draws the process and marks what is done, current and waiting.
//
// The figure around it carries the accessible name (its caption names the current step); the drawing itself is
// hidden from assistive technology and never takes focus. Zoom and "fit" are real buttons (labels from the
// container's data attributes, so they are translated); dragging pans and the mouse wheel zooms.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

/** Below this scale the labels are too small to read: start there, around the current step, instead. */
const READABLE = 0.9;

function controls(container, canvas, zoomScroll) {
  const group = document.createElement("div");
  group.className = "zvh-diagram__knoppen";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", container.dataset.knoppen);
  const actions = [
    ["zoomIn", "+", () => zoomScroll.stepZoom(1)],
    ["zoomUit", "−", () => zoomScroll.stepZoom(-1)],
    ["passend", null, () => canvas.zoom("fit-viewport", "auto")],
  ];
  for (const [key, symbol, act] of actions) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "utrecht-button utrecht-button--secondary-action zvh-diagram__knop";
    button.dataset.zoom = key;
    if (symbol) {
      const icon = document.createElement("span");
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = symbol;
      button.append(icon, " ");
    }
    const text = document.createElement("span");
    text.textContent = container.dataset[key];
    button.append(text);
    button.addEventListener("click", act);
    group.append(button);
  }
  container.before(group);
}

function focusOn(canvas, registry, ids) {
  const element = ids.map((id) => registry.get(id)).find(Boolean);
  canvas.zoom("fit-viewport");
  if (canvas.zoom() >= READABLE) return;
  const box = canvas.viewbox();
  const centre = element
    ? { x: element.x + (element.width ?? 0) / 2, y: element.y + (element.height ?? 0) / 2 }
    : { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  canvas.zoom(READABLE, "auto");
  const now = canvas.viewbox();
  // Around the current step; from the drawing's left edge when the step is near it (the start stays in view).
  const left = now.inner.x - 20;
  const x = centre.x - left < now.width * 0.7 ? left : centre.x - now.width / 2;
  canvas.viewbox({ x, y: centre.y - now.height / 2, width: now.width, height: now.height });
}

const container = document.getElementById("diagram");
if (container) {
  // The labels in the page's own font (measured once it has loaded, so they wrap where they are drawn).
  const fontFamily = getComputedStyle(document.body).fontFamily;
  const viewer = new NavigatedViewer({
    container,
    textRenderer: { defaultStyle: { fontFamily }, externalStyle: { fontFamily } },
  });
  const canvas = viewer.get("canvas");
  const svg = container.querySelector("svg");
  // A picture, not a widget: nothing in it is focusable, assistive technology reads the caption instead.
  svg?.setAttribute("tabindex", "-1");
  svg?.setAttribute("aria-hidden", "true");
  svg?.setAttribute("focusable", "false");
  fetch(container.dataset.bron, { credentials: "same-origin" })
    .then((response) => response.json())
    .then(async (state) => {
      await document.fonts.ready;
      await viewer.importXML(state.xml);
      const registry = viewer.get("elementRegistry");
      const mark = (ids, marker) =>
        ids.filter((id) => registry.get(id)).forEach((id) => canvas.addMarker(id, marker));
      mark(state.completed, "zvh-afgerond");
      mark(state.waiting, "zvh-wachtend");
      mark(state.current, "zvh-huidig");
      focusOn(canvas, registry, [...state.current, ...state.waiting]);
      controls(container, canvas, viewer.get("zoomScroll"));
      container.dataset.geladen = "ja";
    })
    .catch((error) => {
      console.error("diagram:", error);
      container.textContent = container.dataset.fout;
    });
}
