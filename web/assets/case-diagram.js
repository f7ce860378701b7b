// The case page's diagram: bpmn-js draws the process and marks what is done, current and waiting.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const container = document.getElementById("diagram");
if (container) {
  const viewer = new NavigatedViewer({ container });
  fetch(container.dataset.bron, { credentials: "same-origin" })
    .then((response) => response.json())
    .then(async (state) => {
      await viewer.importXML(state.xml);
      const canvas = viewer.get("canvas");
      const registry = viewer.get("elementRegistry");
      const mark = (ids, marker) =>
        ids.filter((id) => registry.get(id)).forEach((id) => canvas.addMarker(id, marker));
      mark(state.completed, "zvh-afgerond");
      mark(state.waiting, "zvh-wachtend");
      mark(state.current, "zvh-huidig");
      canvas.zoom("fit-viewport");
      container.dataset.geladen = "ja";
    })
    .catch((error) => {
      console.error("diagram:", error);
      container.textContent = container.dataset.fout;
    });
}
