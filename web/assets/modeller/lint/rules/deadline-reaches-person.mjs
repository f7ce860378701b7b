// A boundary timer (a deadline) leads, following sequence flows, to a user task in a lane: an expired deadline is
// an escalation someone sees, never a silent end (test_diagram__every_deadline_leads_to_a_person).
import { is } from "bpmnlint-utils";
import { flowElementsDeep, idsInLanes, isExecutableProcess } from "./util.mjs";

const isTimer = (event) => (event.eventDefinitions || []).some((d) => is(d, "bpmn:TimerEventDefinition"));

export default function deadlineReachesPerson() {
  function check(node, reporter) {
    if (!isExecutableProcess(node)) return;
    const inLane = idsInLanes(node);
    const elements = flowElementsDeep(node);
    const outgoing = new Map();
    for (const flow of elements.filter((e) => is(e, "bpmn:SequenceFlow"))) {
      if (!flow.sourceRef || !flow.targetRef) continue;
      if (!outgoing.has(flow.sourceRef.id)) outgoing.set(flow.sourceRef.id, []);
      outgoing.get(flow.sourceRef.id).push(flow.targetRef);
    }
    for (const event of elements.filter((e) => is(e, "bpmn:BoundaryEvent") && isTimer(e))) {
      const queue = [...(outgoing.get(event.id) || [])];
      const seen = new Set();
      let found = false;
      while (queue.length && !found) {
        const current = queue.shift();
        if (seen.has(current.id)) continue;
        seen.add(current.id);
        found = is(current, "bpmn:UserTask") && inLane.has(current.id);
        queue.push(...(outgoing.get(current.id) || []));
      }
      if (!found) {
        reporter.report(
          event.id,
          "Deze termijn leidt niet naar een gebruikerstaak in een lane: een verlopen termijn moet bij een persoon uitkomen",
        );
      }
    }
  }
  return { check };
}
