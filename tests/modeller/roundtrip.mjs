// Imports BPMN files with bpmn-moddle and the modeller's spiffworkflow descriptor (the same JSON file the browser
// bundle uses) and exports them again, the way bpmn-js does on "Opslaan". Prints one JSON document:
//   [{"file": path, "xml": exported XML, "warnings": [import warnings], "error": null | message,
//     "spiff_types": {moddle type: count} of every spiffworkflow: element read (typed ones are named like
//     "spiffworkflow:Properties"; an element the descriptor does not know stays generic, "spiffworkflow:foo")}]
// Usage (cwd = repository root, so node_modules resolves): node tests/modeller/roundtrip.mjs FILE.bpmn...
// Without arguments: every processes/*.bpmn and tests/fixtures/miwg/*.bpmn.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BpmnModdle } from "bpmn-moddle";

const descriptor = JSON.parse(
  readFileSync(new URL("../../web/assets/modeller/spiffworkflow-moddle.json", import.meta.url), "utf-8"),
);

function defaultFiles() {
  const list = (dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith(".bpmn"))
      .sort()
      .map((name) => join(dir, name));
  return [...list("processes"), ...list("tests/fixtures/miwg")];
}

// Decode as the XML declaration says (some MIWG files are ISO-8859-1); the browser receives text from the server.
function readText(file) {
  const bytes = readFileSync(file);
  const declared = /encoding=["']([A-Za-z0-9._-]+)["']/.exec(bytes.subarray(0, 200).toString("latin1"));
  return new TextDecoder(declared ? declared[1] : "utf-8").decode(bytes);
}

// Every spiffworkflow: element reachable from the root, counted by moddle type.
function spiffTypes(root) {
  const counts = {};
  const seen = new Set();
  const visit = (value) => {
    if (!value || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (typeof value.$type === "string" && value.$type.startsWith("spiffworkflow:")) {
      counts[value.$type] = (counts[value.$type] || 0) + 1;
    }
    for (const [key, child] of Object.entries(value)) {
      if (key !== "$parent" && key !== "$descriptor" && key !== "$model") visit(child);
    }
  };
  visit(root);
  return counts;
}

async function roundTrip(file) {
  const moddle = new BpmnModdle({ spiffworkflow: descriptor });
  try {
    const { rootElement, warnings } = await moddle.fromXML(readText(file), "bpmn:Definitions");
    const { xml } = await moddle.toXML(rootElement, { format: true });
    return { file, xml, warnings: warnings.map((w) => w.message), error: null, spiff_types: spiffTypes(rootElement) };
  } catch (error) {
    const message = String(error && error.message ? error.message : error);
    return { file, xml: null, warnings: [], error: message, spiff_types: {} };
  }
}

const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
const results = [];
for (const file of files) results.push(await roundTrip(file));
process.stdout.write(JSON.stringify(results));
