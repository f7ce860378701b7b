// Runs bpmnlint with the modeller's own configuration (web/assets/modeller/lint/config.mjs — the very files the
// browser bundle uses) on BPMN files and prints one JSON document:
//   [{"file": path, "error": null | message, "reports": [{"rule", "id", "message", "category"}]}]
// Usage (cwd = repository root, so node_modules resolves): node tests/modeller/lint.mjs [FILE.bpmn...]
// Without arguments: every processes/*.bpmn.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Linter } from "bpmnlint";
import { BpmnModdle } from "bpmn-moddle";
import lintConfig from "../../web/assets/modeller/lint/config.mjs";

const descriptor = JSON.parse(
  readFileSync(new URL("../../web/assets/modeller/spiffworkflow-moddle.json", import.meta.url), "utf-8"),
);

async function lint(file) {
  try {
    const moddle = new BpmnModdle({ spiffworkflow: descriptor });
    const { rootElement } = await moddle.fromXML(readFileSync(file, "utf-8"), "bpmn:Definitions");
    const results = await new Linter(lintConfig).lint(rootElement);
    const reports = Object.entries(results).flatMap(([rule, items]) =>
      items.map((item) => ({ rule, id: item.id, message: item.message, category: item.category })),
    );
    return { file, error: null, reports };
  } catch (error) {
    return { file, error: String(error && error.stack ? error.stack : error), reports: [] };
  }
}

const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync("processes")
        .filter((name) => name.endsWith(".bpmn"))
        .sort()
        .map((name) => join("processes", name));
const results = [];
for (const file of files) results.push(await lint(file));
process.stdout.write(JSON.stringify(results));
