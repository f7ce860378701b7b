// Every outgoing flow of a splitting exclusive or inclusive gateway has a name, so the decision reads as a
// question with answers (test_diagram__decisions_name_their_outgoing_flows).
import { isAny } from "bpmnlint-utils";
import { isExecutableProcess, processOf } from "./util.mjs";

export default function gatewayBranchesNamed() {
  function check(node, reporter) {
    if (!isAny(node, ["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway"])) return;
    if (!isExecutableProcess(processOf(node))) return;
    const outgoing = node.outgoing || [];
    if (outgoing.length < 2) return;
    for (const flow of outgoing) {
      if (!(flow.name || "").trim()) {
        reporter.report(flow.id, "Uitgaande tak van een beslissing heeft geen naam", ["name"]);
      }
    }
  }
  return { check };
}
