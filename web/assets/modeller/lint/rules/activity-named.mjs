// Activities have a name, and no flow node's name is longer than 60 characters, so the diagram reads well in a
// lane (test_diagram__activities_have_short_names). Stands in for bpmnlint's label-required, which is off.
import { isAny } from "bpmnlint-utils";
import { isExecutableProcess, processOf } from "./util.mjs";

const ACTIVITIES = [
  "bpmn:UserTask",
  "bpmn:ManualTask",
  "bpmn:ScriptTask",
  "bpmn:BusinessRuleTask",
  "bpmn:CallActivity",
  "bpmn:SubProcess",
];
const MAX_LENGTH = 60;

export default function activityNamed() {
  function check(node, reporter) {
    if (!isAny(node, ["bpmn:FlowNode"]) || !isExecutableProcess(processOf(node))) return;
    const name = (node.name || "").trim();
    // bpmn:Task is the plain task; its subtypes are listed separately
    if (!name && (node.$type === "bpmn:Task" || isAny(node, ACTIVITIES))) {
      reporter.report(node.id, "Activiteit heeft geen naam", ["name"]);
    } else if ((node.name || "").length > MAX_LENGTH) {
      reporter.report(node.id, `Naam is langer dan ${MAX_LENGTH} tekens`, ["name"]);
    }
  }
  return { check };
}
