// Reading and changing the spiffworkflow: extension elements of a BPMN element through bpmn-js commands (so every
// change is undoable and marks the diagram as changed). Types come from ../spiffworkflow-moddle.json.
import { is } from "bpmn-js/lib/util/ModelUtil";

const MULTI = "properties-panel.multi-command-executor";
const UPDATE = "element.updateModdleProperties";

export function extensionValues(businessObject) {
  const extensionElements = businessObject && businessObject.get("extensionElements");
  return (extensionElements && extensionElements.get("values")) || [];
}

export function findExtension(businessObject, type) {
  return extensionValues(businessObject).find((value) => is(value, type));
}

/** The text of a body-only extension (instructions, scripts, message payload…), or "". */
export function extensionText(businessObject, type) {
  const extension = findExtension(businessObject, type);
  return (extension && extension.get("value")) || "";
}

/** Commands that give `moddleElement` an extensionElements container, and that container. */
function ensureExtensionElements(element, moddleElement, bpmnFactory) {
  const existing = moddleElement.get("extensionElements");
  if (existing) return [[], existing];
  const created = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
  created.$parent = moddleElement;
  const command = { cmd: UPDATE, context: { element, moddleElement, properties: { extensionElements: created } } };
  return [[command], created];
}

/** Commands that take `value` out of the extension elements (and drop an emptied container). */
function removeCommands(element, moddleElement, value) {
  const extensionElements = moddleElement.get("extensionElements");
  const remaining = extensionElements.get("values").filter((v) => v !== value);
  if (remaining.length === 0) {
    return [{ cmd: UPDATE, context: { element, moddleElement, properties: { extensionElements: undefined } } }];
  }
  return [{ cmd: UPDATE, context: { element, moddleElement: extensionElements, properties: { values: remaining } } }];
}

function execute(commandStack, commands) {
  if (commands.length) commandStack.execute(MULTI, commands);
}

/** Set (or, with an empty text, remove) a body-only extension such as spiffworkflow:instructionsForEndUser. */
export function setExtensionText(element, moddleElement, type, text, { bpmnFactory, commandStack }) {
  const existing = findExtension(moddleElement, type);
  if (!text || !text.trim()) {
    if (existing) execute(commandStack, removeCommands(element, moddleElement, existing));
    return;
  }
  if (existing) {
    commandStack.execute(UPDATE, { element, moddleElement: existing, properties: { value: text } });
    return;
  }
  const [commands, extensionElements] = ensureExtensionElements(element, moddleElement, bpmnFactory);
  const created = bpmnFactory.create(type, { value: text });
  created.$parent = extensionElements;
  commands.push({
    cmd: UPDATE,
    context: { element, moddleElement: extensionElements, properties: { values: [...extensionElements.get("values"), created] } },
  });
  execute(commandStack, commands);
}

// --- spiffworkflow:properties -------------------------------------------------------------------------------------

export function propertyList(businessObject) {
  const container = findExtension(businessObject, "spiffworkflow:Properties");
  return (container && container.get("properties")) || [];
}

export function propertyValue(businessObject, name) {
  const property = propertyList(businessObject).find((p) => p.get("name") === name);
  return (property && property.get("value")) || "";
}

/** Commands that add `property` to the element's spiffworkflow:properties (created when missing). */
function addPropertyCommands(element, businessObject, property, bpmnFactory) {
  const container = findExtension(businessObject, "spiffworkflow:Properties");
  if (container) {
    property.$parent = container;
    return [
      {
        cmd: UPDATE,
        context: { element, moddleElement: container, properties: { properties: [...container.get("properties"), property] } },
      },
    ];
  }
  const [commands, extensionElements] = ensureExtensionElements(element, businessObject, bpmnFactory);
  const created = bpmnFactory.create("spiffworkflow:Properties", { properties: [property] });
  created.$parent = extensionElements;
  property.$parent = created;
  commands.push({
    cmd: UPDATE,
    context: { element, moddleElement: extensionElements, properties: { values: [...extensionElements.get("values"), created] } },
  });
  return commands;
}

function removePropertyCommands(element, businessObject, property) {
  const container = findExtension(businessObject, "spiffworkflow:Properties");
  if (!container) return [];
  const remaining = container.get("properties").filter((p) => p !== property);
  if (remaining.length === 0) return removeCommands(element, businessObject, container);
  return [{ cmd: UPDATE, context: { element, moddleElement: container, properties: { properties: remaining } } }];
}

/** Set the property `name` (e.g. formJsonSchemaFilename) to `value`; an empty value removes it. */
export function setPropertyValue(element, businessObject, name, value, { bpmnFactory, commandStack }) {
  const existing = propertyList(businessObject).find((p) => p.get("name") === name);
  if (!value) {
    if (existing) execute(commandStack, removePropertyCommands(element, businessObject, existing));
    return;
  }
  if (existing) {
    commandStack.execute(UPDATE, { element, moddleElement: existing, properties: { value } });
    return;
  }
  const property = bpmnFactory.create("spiffworkflow:Property", { name, value });
  execute(commandStack, addPropertyCommands(element, businessObject, property, bpmnFactory));
}

export function addProperty(element, businessObject, { bpmnFactory, commandStack }) {
  const property = bpmnFactory.create("spiffworkflow:Property", { name: "", value: "" });
  execute(commandStack, addPropertyCommands(element, businessObject, property, bpmnFactory));
}

export function removeProperty(element, businessObject, property, { commandStack }) {
  execute(commandStack, removePropertyCommands(element, businessObject, property));
}
