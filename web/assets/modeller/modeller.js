// The process owner's modeller: bpmn-js Modeler with the spiffworkflow moddle extension, a properties panel for what
// the engine reads, bpmnlint (recommended + ZVH rules) while drawing, server-side validation, saving as a draft and
// token simulation. Configured only through the data attributes of #modeller (the CSP allows no inline script).
import Modeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import lintModule from "bpmn-js-bpmnlint";
import TokenSimulationModule from "bpmn-js-token-simulation";
import spiffworkflow from "./spiffworkflow-moddle.json";
import lintConfig from "./lint/config.mjs";
import ZvhPropertiesModule from "./properties/index.js";
import translateModule from "./translate.js";

const PROBLEM_OVERLAY = "zvh-probleem";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    answer = {};
  }
  return { status: response.status, ok: response.ok, answer };
}

function intOrNull(value) {
  return value === undefined || value === "" ? null : Number.parseInt(value, 10);
}

function formatMoment(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso || "";
  return moment.toLocaleString("nl-NL", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Amsterdam" });
}

class ModellerPage {
  constructor(container) {
    this.container = container;
    this.statusElement = document.getElementById("modeller-status");
    this.problemList = document.getElementById("modeller-problemen");
    this.dirty = false;
  }

  status(message, kind = "info") {
    if (!this.statusElement) return;
    this.statusElement.textContent = message;
    this.statusElement.dataset.soort = kind;
  }

  async start() {
    const { xmlUrl, metaUrl } = this.container.dataset;
    this.status("Diagram laden…");
    const [xml, meta] = await Promise.all([
      fetch(xmlUrl, { credentials: "same-origin" }).then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.text();
      }),
      metaUrl
        ? fetch(metaUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then((response) => (response.ok ? response.json() : {}))
            .catch(() => ({}))
        : Promise.resolve({}),
    ]);
    const panel = document.getElementById("modeller-eigenschappen");
    this.modeler = new Modeler({
      container: this.container,
      propertiesPanel: panel ? { parent: panel } : undefined,
      linting: { bpmnlint: lintConfig, active: true },
      zvhMeta: meta,
      additionalModules: [
        BpmnPropertiesPanelModule,
        BpmnPropertiesProviderModule,
        ZvhPropertiesModule,
        lintModule,
        TokenSimulationModule,
        translateModule,
      ],
      moddleExtensions: { spiffworkflow },
    });
    const { warnings } = await this.modeler.importXML(xml);
    if (warnings && warnings.length) console.warn("modeller: import warnings", warnings);
    this.fit();
    this.modeler.get("eventBus").on("commandStack.changed", () => {
      this.dirty = true;
    });
    this.modeler.get("eventBus").on("tokenSimulation.toggleMode", (event) => this.simulationChanged(event.active));
    window.addEventListener("beforeunload", (event) => {
      if (this.dirty) event.preventDefault();
    });
    this.bind("knop-valideren", () => this.validate());
    this.bind("knop-opslaan", () => this.save());
    this.bind("knop-afspelen", () => this.modeler.get("toggleMode").toggleMode());
    // for browser tests and the console: the Modeler instance, without a global
    this.container.zvhModeller = this.modeler;
    this.container.dataset.geladen = "ja";
    this.status(warnings && warnings.length ? `Diagram geladen, met ${warnings.length} waarschuwing(en).` : "");
  }

  /** The whole diagram in view, clear of the palette on the left. */
  fit() {
    const canvas = this.modeler.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    canvas.zoom(canvas.zoom() * 0.88, "auto");
    canvas.scroll({ dx: 25, dy: 0 });
  }

  bind(id, action) {
    const button = document.getElementById(id);
    if (!button) return;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await action();
      } catch (error) {
        console.error("modeller:", error);
        this.status(`Er ging iets mis: ${error.message || error}`, "fout");
      } finally {
        button.disabled = false;
      }
    });
  }

  async currentXml() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml;
  }

  // --- Valideren ----------------------------------------------------------------------------------------------------

  async validate() {
    this.status("Valideren…");
    const { ok, answer } = await postJson(this.container.dataset.validateUrl, { xml: await this.currentXml() });
    const problems = Array.isArray(answer.problems) ? answer.problems : [];
    this.showProblems(problems);
    if (!ok && !problems.length) {
      this.status(answer.message || "Valideren is niet gelukt.", "fout");
    } else if (problems.length === 0) {
      this.status("Geen problemen gevonden: het diagram komt door de controles van het publiceren.", "succes");
    } else {
      const n = problems.length;
      this.status(n === 1 ? "1 probleem gevonden." : `${n} problemen gevonden.`, "fout");
    }
  }

  showProblems(problems) {
    const overlays = this.modeler.get("overlays");
    const canvas = this.modeler.get("canvas");
    const registry = this.modeler.get("elementRegistry");
    overlays.remove({ type: PROBLEM_OVERLAY });
    for (const element of this.markedElements || []) canvas.removeMarker(element, "zvh-probleem-element");
    this.markedElements = [];
    if (this.problemList) this.problemList.replaceChildren();
    const perElement = new Map();
    for (const problem of problems) {
      const element = problem.element ? registry.get(problem.element) : null;
      if (element) {
        if (!perElement.has(element)) perElement.set(element, []);
        perElement.get(element).push(problem.message);
      }
      this.listProblem(problem, element);
    }
    for (const [element, messages] of perElement) {
      canvas.addMarker(element, "zvh-probleem-element");
      this.markedElements.push(element);
      const badge = document.createElement("div");
      badge.className = "zvh-probleem";
      badge.textContent = messages.length === 1 ? "!" : `! ${messages.length}`;
      badge.title = messages.join("\n");
      badge.setAttribute("role", "img");
      badge.setAttribute("aria-label", messages.join("; "));
      overlays.add(element, PROBLEM_OVERLAY, { position: { top: -10, right: 10 }, html: badge });
    }
  }

  listProblem(problem, element) {
    if (!this.problemList) return;
    const item = document.createElement("li");
    item.className = "utrecht-unordered-list__item";
    if (problem.element) item.dataset.element = problem.element;
    if (element) {
      const name = (element.businessObject && element.businessObject.name) || problem.element;
      const show = document.createElement("button");
      show.type = "button";
      show.className = "zvh-link-button";
      show.textContent = name;
      show.addEventListener("click", () => {
        this.modeler.get("selection").select(element);
        this.modeler.get("canvas").scrollToElement(element);
      });
      item.append(show, ": ");
    } else if (problem.element || problem.file) {
      item.append(`${problem.element || problem.file}: `);
    }
    item.append(problem.message);
    this.problemList.append(item);
  }

  // --- Opslaan als concept ------------------------------------------------------------------------------------------

  async save() {
    this.status("Opslaan…");
    const data = this.container.dataset;
    const body = {
      xml: await this.currentXml(),
      draft_id: intOrNull(data.draftId),
      revision: intOrNull(data.revision),
    };
    const { ok, status, answer } = await postJson(data.saveUrl, body);
    if (ok) {
      const wasNew = body.draft_id === null;
      data.draftId = String(answer.draft_id);
      data.revision = String(answer.revision);
      this.dirty = false;
      this.status(
        `Opgeslagen als concept ${answer.draft_id} (revisie ${answer.revision}) door ${answer.saved_by || "u"}` +
          ` op ${formatMoment(answer.saved_at)}. Er is nog niets gepubliceerd.`,
        "succes",
      );
      if (wasNew) {
        const url = new URL(window.location.href);
        url.searchParams.delete("versie");
        url.searchParams.set("concept", String(answer.draft_id));
        window.history.replaceState(null, "", url);
      }
      return;
    }
    if (status === 409) {
      this.status(answer.message || "Iemand anders heeft dit concept intussen opgeslagen.", "fout");
      if (answer.compare_url) {
        const link = document.createElement("a");
        link.className = "utrecht-link";
        link.href = answer.compare_url;
        link.target = "_blank";
        link.textContent = "Bekijk wat er is opgeslagen";
        this.statusElement.append(" ", link);
      }
      return;
    }
    if (Array.isArray(answer.problems) && answer.problems.length) this.showProblems(answer.problems);
    this.status(answer.message || `Opslaan is niet gelukt (HTTP ${status}).`, "fout");
  }

  // --- Afspelen -----------------------------------------------------------------------------------------------------

  simulationChanged(active) {
    const button = document.getElementById("knop-afspelen");
    if (button) button.setAttribute("aria-pressed", active ? "true" : "false");
    this.container.classList.toggle("zvh-afspelen", !!active);
    this.status(
      active
        ? "Afspelen: klik op de startgebeurtenis om een token te laten lopen. Er wordt niets uitgevoerd of opgeslagen."
        : "Afspelen gestopt: u kunt weer wijzigen.",
    );
  }
}

const container = document.getElementById("modeller");
if (container) {
  const page = new ModellerPage(container);
  page.start().catch((error) => {
    console.error("modeller:", error);
    page.status(`Het diagram kon niet worden geladen: ${error.message || error}`, "fout");
  });
}
