// The bpmnlint configuration of the modeller: bpmnlint's recommended rules plus the ZVH rules (a local plug-in,
// "zvh/…", mirroring tests/processes/test_diagrams.py). The browser bundle (modeller.js, via bpmn-js-bpmnlint) and
// the node check (tests/modeller/lint.mjs) both import this file, so the browser and the test suite agree.
// Rules resolve from a static cache: every rule is imported here, so esbuild bundles them without a packing step.
import StaticResolver from "bpmnlint/lib/resolver/static-resolver.js";
import recommended from "bpmnlint/config/recommended.js";
import adHocSubProcess from "bpmnlint/rules/ad-hoc-sub-process.js";
import conditionalFlows from "bpmnlint/rules/conditional-flows.js";
import endEventRequired from "bpmnlint/rules/end-event-required.js";
import eventBasedGateway from "bpmnlint/rules/event-based-gateway.js";
import eventSubProcessTypedStartEvent from "bpmnlint/rules/event-sub-process-typed-start-event.js";
import fakeJoin from "bpmnlint/rules/fake-join.js";
import global from "bpmnlint/rules/global.js";
import labelRequired from "bpmnlint/rules/label-required.js";
import linkEvent from "bpmnlint/rules/link-event.js";
import noBpmndi from "bpmnlint/rules/no-bpmndi.js";
import noComplexGateway from "bpmnlint/rules/no-complex-gateway.js";
import noDisconnected from "bpmnlint/rules/no-disconnected.js";
import noDuplicateSequenceFlows from "bpmnlint/rules/no-duplicate-sequence-flows.js";
import noGatewayJoinFork from "bpmnlint/rules/no-gateway-join-fork.js";
import noImplicitSplit from "bpmnlint/rules/no-implicit-split.js";
import noImplicitEnd from "bpmnlint/rules/no-implicit-end.js";
import noImplicitStart from "bpmnlint/rules/no-implicit-start.js";
import noInclusiveGateway from "bpmnlint/rules/no-inclusive-gateway.js";
import noOverlappingElements from "bpmnlint/rules/no-overlapping-elements.js";
import singleBlankStartEvent from "bpmnlint/rules/single-blank-start-event.js";
import singleEventDefinition from "bpmnlint/rules/single-event-definition.js";
import startEventRequired from "bpmnlint/rules/start-event-required.js";
import subProcessBlankStartEvent from "bpmnlint/rules/sub-process-blank-start-event.js";
import superfluousGateway from "bpmnlint/rules/superfluous-gateway.js";
import superfluousLabel from "bpmnlint/rules/superfluous-label.js";
import superfluousTermination from "bpmnlint/rules/superfluous-termination.js";
import activityNamed from "./rules/activity-named.mjs";
import deadlineReachesPerson from "./rules/deadline-reaches-person.mjs";
import gatewayBranchesNamed from "./rules/gateway-branches-named.mjs";
import userTaskInLane from "./rules/user-task-in-lane.mjs";

/** The rules of this engine (plug-in "zvh"); the node check asserts that none of them fires on processes/. */
export const ZVH_RULES = {
  "user-task-in-lane": userTaskInLane,
  "gateway-branches-named": gatewayBranchesNamed,
  "deadline-reaches-person": deadlineReachesPerson,
  "activity-named": activityNamed,
};

export const config = {
  extends: "bpmnlint:recommended",
  rules: {
    ...Object.fromEntries(Object.keys(ZVH_RULES).map((name) => [`zvh/${name}`, "error"])),
    // Off: SpiffWorkflow treats several flows into a task as an exclusive merge, and the ZVH processes use that
    // on purpose for loops back to an earlier step (Task_volledigheid after "aanvullen", rework rounds, …).
    "fake-join": "off",
    // Off: one exclusive gateway that merges and splits ("Gateway_spoed", "Gateway_al_gemeld") is how the ZVH
    // processes draw "ask again / go on"; the engine runs it correctly, and a separate merge gateway only adds a shape.
    "no-gateway-join-fork": "off",
    // Off: the engine does not need names on events, and the ZVH processes leave the start/end events of
    // escalation branches and sub-processes unnamed. Names that matter are checked by zvh/activity-named
    // (activities) and zvh/gateway-branches-named (decision branches).
    "label-required": "off",
  },
};

// bpmnlint reports in English; the process owner reads Dutch.
const DUTCH = [
  [/^Element is missing bpmndi$/, "Element is niet getekend (BPMN DI ontbreekt)"],
  [/^Element is outside of parent boundary$/, "Element ligt buiten zijn omringende vorm"],
  [/^Element overlaps with other element$/, "Element overlapt een ander element"],
  [/^Sequence flow is missing condition$/, "Tak heeft geen voorwaarde (en is niet de standaardtak)"],
  [/^Element is an implicit end$/, "Element eindigt impliciet: verbind het met een eindgebeurtenis"],
  [/^Element is an implicit start$/, "Element begint impliciet: verbind het met een startgebeurtenis"],
  [/^Element is not connected$/, "Element is niet verbonden"],
  [/^Element type <(.*)> is discouraged$/, "Elementtype <$1> wordt afgeraden"],
  [/^Event has multiple event definitions$/, "Gebeurtenis heeft meer dan één definitie"],
  [/^Flow splits implicitly$/, "Stroom splitst impliciet: gebruik een gateway"],
  [/^Gateway is superfluous\. It only has one source and target\.$/, "Overbodige gateway: één ingang en één uitgang"],
  [/^Sequence flow has superfluous label$/, "Tak heeft een overbodige naam"],
  [/^SequenceFlow is a duplicate$/, "Dubbele tak"],
  [/^Termination is superfluous\.$/, "Beëindigen is overbodig"],
  [/^(.*) has multiple blank start events$/, "$1 heeft meer dan één lege startgebeurtenis"],
  [/^(.*) is missing end event$/, "$1 heeft geen eindgebeurtenis"],
  [/^(.*) is missing start event$/, "$1 heeft geen startgebeurtenis"],
  [/^Start event must be blank$/, "Startgebeurtenis moet leeg zijn"],
  [/^Element is missing name$/, "Element heeft geen naam"],
  [/^Element is unused$/, "Element wordt niet gebruikt"],
  [/^Element name is not unique$/, "Naam is niet uniek"],
  [/^Duplicate outgoing sequence flows$/, "Dubbele uitgaande takken"],
  [/^Duplicate incoming sequence flows$/, "Dubbele inkomende takken"],
];

function dutch(message) {
  for (const [pattern, replacement] of DUTCH) {
    if (pattern.test(message)) return message.replace(pattern, replacement);
  }
  return message;
}

/** The same rule, reporting in Dutch. */
function translated(factory) {
  return (...args) => {
    const rule = factory(...args);
    const wrap = (fn) =>
      fn &&
      ((node, reporter) => {
        const dutchReporter = Object.create(reporter);
        dutchReporter.report = (id, message, ...rest) => reporter.report(id, dutch(message), ...rest);
        return fn(node, dutchReporter);
      });
    const check = rule.check;
    const wrapped =
      typeof check === "function" ? wrap(check) : { enter: wrap(check && check.enter), leave: wrap(check && check.leave) };
    return { ...rule, check: wrapped };
  };
}

const BPMNLINT_RULES = {
  "ad-hoc-sub-process": adHocSubProcess,
  "conditional-flows": conditionalFlows,
  "end-event-required": endEventRequired,
  "event-based-gateway": eventBasedGateway,
  "event-sub-process-typed-start-event": eventSubProcessTypedStartEvent,
  "fake-join": fakeJoin,
  global,
  "label-required": labelRequired,
  "link-event": linkEvent,
  "no-bpmndi": noBpmndi,
  "no-complex-gateway": noComplexGateway,
  "no-disconnected": noDisconnected,
  "no-duplicate-sequence-flows": noDuplicateSequenceFlows,
  "no-gateway-join-fork": noGatewayJoinFork,
  "no-implicit-split": noImplicitSplit,
  "no-implicit-end": noImplicitEnd,
  "no-implicit-start": noImplicitStart,
  "no-inclusive-gateway": noInclusiveGateway,
  "no-overlapping-elements": noOverlappingElements,
  "single-blank-start-event": singleBlankStartEvent,
  "single-event-definition": singleEventDefinition,
  "start-event-required": startEventRequired,
  "sub-process-blank-start-event": subProcessBlankStartEvent,
  "superfluous-gateway": superfluousGateway,
  "superfluous-label": superfluousLabel,
  "superfluous-termination": superfluousTermination,
};

const cache = { "config:bpmnlint/recommended": recommended };
for (const [name, factory] of Object.entries(BPMNLINT_RULES)) cache[`rule:bpmnlint/${name}`] = translated(factory);
for (const [name, factory] of Object.entries(ZVH_RULES)) cache[`rule:bpmnlint-plugin-zvh/${name}`] = factory;

export const resolver = new StaticResolver(cache);

/** What bpmn-js-bpmnlint expects as `linting.bpmnlint`. */
export default { config, resolver };
