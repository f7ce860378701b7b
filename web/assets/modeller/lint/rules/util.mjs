// Helpers shared by the ZVH lint rules: they read the moddle tree the way tests/processes/test_diagrams.py reads XML.
import { is } from "bpmnlint-utils";

/** The process an element belongs to (walking up through sub-processes), or null. */
export function processOf(node) {
  let current = node;
  while (current && !is(current, "bpmn:Process")) current = current.$parent;
  return current || null;
}

/** The engine runs executable processes only; the checks of test_diagrams.py look at those. */
export function isExecutableProcess(node) {
  return is(node, "bpmn:Process") && node.isExecutable === true;
}

/** Every flow element of a process or sub-process, including those of nested sub-processes. */
export function flowElementsDeep(container) {
  const all = [];
  for (const element of container.flowElements || []) {
    all.push(element);
    if (is(element, "bpmn:SubProcess")) all.push(...flowElementsDeep(element));
  }
  return all;
}

/** The ids of the flow nodes some lane (at any depth) of the process refers to. */
export function idsInLanes(process) {
  const ids = new Set();
  const visit = (laneSet) => {
    for (const lane of (laneSet && laneSet.lanes) || []) {
      for (const ref of lane.flowNodeRef || []) ids.add(ref.id);
      visit(lane.childLaneSet);
    }
  };
  for (const laneSet of process.laneSets || []) visit(laneSet);
  return ids;
}
