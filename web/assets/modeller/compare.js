// The comparison page: the old and the new diagram side by side, elements coloured by what changed (added, removed,
// changed, only moved). The server's comparison (data-comparison-url) is used when the page has one, so the colours
// match the table; otherwise bpmn-js-differ compares the two diagrams in the browser.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { diff } from "bpmn-js-differ";
import spiffworkflow from "./spiffworkflow-moddle.json";

const KINDS = ["added", "removed", "changed", "layout"];
const LABELS = { added: "Toegevoegd", removed: "Verwijderd", changed: "Gewijzigd", layout: "Alleen verplaatst" };

async function text(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}

async function serverChanges(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const comparison = await response.json();
  const ids = (kind) => (comparison[kind] || []).map((change) => change.element_id);
  return Object.fromEntries(KINDS.map((kind) => [kind, ids(kind)]));
}

function browserChanges(oldViewer, newViewer) {
  const result = diff(oldViewer.getDefinitions(), newViewer.getDefinitions());
  return {
    added: Object.keys(result._added || {}),
    removed: Object.keys(result._removed || {}),
    changed: Object.keys(result._changed || {}),
    layout: Object.keys(result._layoutChanged || {}),
  };
}

function pane(parent, title) {
  const section = document.createElement("section");
  section.className = "zvh-vergelijking__kant";
  const heading = document.createElement("h2");
  heading.className = "utrecht-heading-3";
  heading.textContent = title;
  const canvas = document.createElement("div");
  canvas.className = "zvh-vergelijking__diagram";
  section.append(heading, canvas);
  parent.append(section);
  return canvas;
}

function legend(container) {
  if (document.querySelector(".zvh-legend .zvh-verschil")) return; // the page draws its own legend
  const paragraph = document.createElement("p");
  paragraph.className = "zvh-legend";
  for (const kind of KINDS) {
    const item = document.createElement("span");
    item.className = `zvh-verschil zvh-verschil--${kind}`;
    item.textContent = LABELS[kind];
    paragraph.append(item, " ");
  }
  container.after(paragraph);
}

function mark(viewer, ids, kind) {
  const registry = viewer.get("elementRegistry");
  const canvas = viewer.get("canvas");
  for (const id of ids) {
    if (registry.get(id)) canvas.addMarker(id, `zvh-verschil-${kind}`);
  }
}

async function start(container) {
  const { oldUrl, newUrl, comparisonUrl } = container.dataset;
  container.classList.add("zvh-vergelijking");
  const oldViewer = new NavigatedViewer({
    container: pane(container, "Oud"),
    moddleExtensions: { spiffworkflow },
  });
  const newViewer = new NavigatedViewer({
    container: pane(container, "Nieuw"),
    moddleExtensions: { spiffworkflow },
  });
  const [oldXml, newXml] = await Promise.all([text(oldUrl), text(newUrl)]);
  await oldViewer.importXML(oldXml);
  await newViewer.importXML(newXml);
  let changes;
  try {
    changes = comparisonUrl ? await serverChanges(comparisonUrl) : browserChanges(oldViewer, newViewer);
  } catch (error) {
    console.warn("vergelijking: server comparison unavailable, comparing in the browser", error);
    changes = browserChanges(oldViewer, newViewer);
  }
  mark(oldViewer, changes.removed, "removed");
  mark(newViewer, changes.added, "added");
  for (const kind of ["changed", "layout"]) {
    mark(oldViewer, changes[kind], kind);
    mark(newViewer, changes[kind], kind);
  }
  for (const viewer of [oldViewer, newViewer]) viewer.get("canvas").zoom("fit-viewport");
  legend(container);

  // a row of the table (data-element) shows its element in both diagrams
  for (const row of document.querySelectorAll("[data-element]")) {
    row.addEventListener("click", () => {
      for (const viewer of [oldViewer, newViewer]) {
        const element = viewer.get("elementRegistry").get(row.dataset.element);
        if (element) viewer.get("canvas").scrollToElement(element);
      }
    });
  }
  container.dataset.geladen = "ja";
  container.dataset.verschillen = String(KINDS.reduce((n, kind) => n + changes[kind].length, 0));
}

const container = document.getElementById("vergelijking");
if (container) {
  start(container).catch((error) => {
    console.error("vergelijking:", error);
    container.textContent = "De diagrammen konden niet worden geladen.";
  });
}
