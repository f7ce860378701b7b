// The heat map: bpmn-js draws the newest process diagram; each step with waiting cases gets a badge with how many
// wait there and their median waiting time, coloured against the step's norm. A badge (or the step) opens the list.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const BANDS = new Set(["ok", "warn", "over"]);

// A step without a norm is always "ok"; it shows in grey, like in the table, rather than as a green light.
const look = (step) => (step.norm ? step.band : "none");

function badge(step) {
  const link = document.createElement("a");
  link.href = step.url;
  link.className = `zvh-heat zvh-heat--${look(step)}`;
  link.textContent = `${step.waiting} · ${step.median_label}`;
  link.title = `${step.name}: ${step.band_label}`;
  // The table under the picture has the same links for keyboards and screen readers; the badges are for the mouse.
  link.tabIndex = -1;
  link.setAttribute("aria-hidden", "true");
  return link;
}

const container = document.getElementById("heatmap");
if (container) {
  const viewer = new NavigatedViewer({ container });
  fetch(container.dataset.bron, { credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then(async (heat) => {
      await viewer.importXML(heat.xml);
      const canvas = viewer.get("canvas");
      const overlays = viewer.get("overlays");
      const registry = viewer.get("elementRegistry");
      const shown = Object.entries(heat.elements).filter(([id, step]) => registry.get(id) && BANDS.has(step.band));
      for (const [id, step] of shown) {
        canvas.addMarker(id, `zvh-heat-${look(step)}`);
        overlays.add(id, { position: { bottom: 0, right: 0 }, html: badge(step) });
      }
      viewer.get("eventBus").on("element.click", (event) => {
        const step = heat.elements[event.element.id];
        if (step) window.location.assign(step.url);
      });
      canvas.zoom("fit-viewport");
      const svg = container.querySelector("svg");
      svg?.setAttribute("aria-hidden", "true");
      svg?.setAttribute("focusable", "false");
      container.dataset.geladen = "ja";
    })
    .catch((error) => {
      console.error("heatmap:", error);
      container.textContent = container.dataset.fout;
    });
}
