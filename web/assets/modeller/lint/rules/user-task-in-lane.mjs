// Every user task sits in a lane: the lane names the role whose work list shows the task
// (test_diagram__every_user_task_sits_in_a_lane).
import { is } from "bpmnlint-utils";
import { flowElementsDeep, idsInLanes, isExecutableProcess } from "./util.mjs";

export default function userTaskInLane() {
  function check(node, reporter) {
    if (!isExecutableProcess(node)) return;
    const inLane = idsInLanes(node);
    for (const element of flowElementsDeep(node)) {
      if (is(element, "bpmn:UserTask") && !inLane.has(element.id)) {
        reporter.report(element.id, "Gebruikerstaak ligt in geen lane: zet hem in de lane van de rol die hem uitvoert");
      }
    }
  }
  return { check };
}
