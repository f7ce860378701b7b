// Properties panel groups for what the ZVH engine reads from a diagram (the spiffworkflow: extensions and a few BPMN
// fields the generic panel leaves out): the form of a user task, its instructions and scripts, the role of a lane,
// the condition of a decision branch, script text, message payload / variable, the called decision, and the
// spiffworkflow:properties list (deadlines, rounds, norms). Timers are edited by the generic "Timer" group.
import { h } from "@bpmn-io/properties-panel/preact";
import {
  ListGroup,
  Group,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is, isAny } from "bpmn-js/lib/util/ModelUtil";
import {
  addProperty,
  extensionText,
  propertyList,
  propertyValue,
  removeProperty,
  setExtensionText,
  setPropertyValue,
} from "./extensions.js";

export const FORM_PROPERTY = "formJsonSchemaFilename";
export const UI_PROPERTY = "formUiSchemaFilename";
const FORM_PROPERTIES = new Set([FORM_PROPERTY, UI_PROPERTY]);
const FORM_ELEMENTS = ["bpmn:UserTask", "bpmn:ManualTask", "bpmn:StartEvent"];
const NO_VALUE = "";

function useServices() {
  return {
    bpmnFactory: useService("bpmnFactory"),
    commandStack: useService("commandStack"),
    debounce: useService("debounceInput"),
    meta: useService("config.zvhMeta", false) || {},
  };
}

/** Options for a select: an empty choice, the known values, and the current value even when it is not known. */
function options(known, current, emptyLabel) {
  const values = [...new Set([...known, ...(current ? [current] : [])])];
  return [
    { value: NO_VALUE, label: emptyLabel },
    ...values.map((value) => ({ value, label: known.includes(value) ? value : `${value} (onbekend)` })),
  ];
}

// --- entries ------------------------------------------------------------------------------------------------------

function FormSelect(props) {
  const { element, id, property, label } = props;
  const services = useServices();
  const businessObject = getBusinessObject(element);
  // the meta data lists the forms (x.json); a form's UI schema is x.ui.json by convention (listed when given too)
  const all = services.meta.forms || [];
  const schemas = all.filter((name) => !name.endsWith(".ui.json"));
  const uiSchemas = [
    ...new Set([...all.filter((name) => name.endsWith(".ui.json")), ...schemas.map((n) => n.replace(/\.json$/, ".ui.json"))]),
  ].sort();
  const forms = property === UI_PROPERTY ? uiSchemas : schemas;
  return h(SelectEntry, {
    element,
    id,
    label,
    getValue: () => propertyValue(businessObject, property),
    setValue: (value) => setPropertyValue(element, businessObject, property, value, services),
    getOptions: () => options(forms, propertyValue(businessObject, property), "(geen)"),
  });
}

function ExtensionTextArea(props) {
  const { element, id, label, type, moddleElement, monospace, description } = props;
  const services = useServices();
  const target = moddleElement || getBusinessObject(element);
  return h(TextAreaEntry, {
    element,
    id,
    label,
    description,
    monospace,
    rows: monospace ? 4 : 5,
    autoResize: true,
    debounce: services.debounce,
    getValue: () => extensionText(target, type),
    setValue: (value) => setExtensionText(element, target, type, value, services),
  });
}

function ExtensionTextField(props) {
  const { element, id, label, type, moddleElement, description } = props;
  const services = useServices();
  const target = moddleElement || getBusinessObject(element);
  return h(TextFieldEntry, {
    element,
    id,
    label,
    description,
    debounce: services.debounce,
    getValue: () => extensionText(target, type),
    setValue: (value) => setExtensionText(element, target, type, value, services),
  });
}

function LaneRole(props) {
  const { element, id } = props;
  const modeling = useService("modeling");
  const meta = useService("config.zvhMeta", false) || {};
  const lanes = meta.lanes || {};
  const names = Object.keys(lanes).length ? Object.keys(lanes) : meta.roles || [];
  const current = getBusinessObject(element).get("name") || "";
  return h(SelectEntry, {
    element,
    id,
    label: "Rol",
    description: "De lane bepaalt welke rol de taken erin te zien krijgt.",
    getValue: () => getBusinessObject(element).get("name") || NO_VALUE,
    setValue: (value) => modeling.updateProperties(element, { name: value || undefined }),
    getOptions: () =>
      options(names, current, "(kies een rol)").map((option) =>
        lanes[option.value] ? { ...option, label: `${option.value} — ${lanes[option.value]}` } : option,
      ),
  });
}

function ConditionExpression(props) {
  const { element, id } = props;
  const services = useServices();
  const modeling = useService("modeling");
  const businessObject = getBusinessObject(element);
  const isDefault = () => {
    const source = businessObject.get("sourceRef");
    return !!source && source.get("default") === businessObject;
  };
  return h(TextAreaEntry, {
    element,
    id,
    label: "Voorwaarde (Python-expressie)",
    description: isDefault()
      ? "Dit is de standaardtak: hij wordt genomen als geen andere voorwaarde waar is."
      : "Bijvoorbeeld: besluit == \"toewijzen\"",
    monospace: true,
    rows: 2,
    autoResize: true,
    debounce: services.debounce,
    getValue: () => {
      const condition = businessObject.get("conditionExpression");
      return (condition && condition.get("body")) || "";
    },
    setValue: (value) => {
      if (!value || !value.trim()) {
        modeling.updateProperties(element, { conditionExpression: undefined });
        return;
      }
      const condition = services.bpmnFactory.create("bpmn:FormalExpression", { body: value });
      modeling.updateProperties(element, { conditionExpression: condition });
    },
  });
}

function ScriptText(props) {
  const { element, id } = props;
  const services = useServices();
  const modeling = useService("modeling");
  const businessObject = getBusinessObject(element);
  return h(TextAreaEntry, {
    element,
    id,
    label: "Script (Python)",
    monospace: true,
    rows: 6,
    autoResize: true,
    debounce: services.debounce,
    getValue: () => businessObject.get("script") || "",
    setValue: (value) => modeling.updateProperties(element, { script: value || undefined }),
  });
}

function PropertyField(props) {
  const { element, id, property, field, label } = props;
  const services = useServices();
  return h(TextFieldEntry, {
    element,
    id,
    label,
    debounce: services.debounce,
    getValue: () => property.get(field) || "",
    setValue: (value) =>
      services.commandStack.execute("element.updateModdleProperties", {
        element,
        moddleElement: property,
        properties: { [field]: value },
      }),
  });
}

// --- groups -------------------------------------------------------------------------------------------------------

/** The element whose spiffworkflow extensions the panel edits (a pool stands for its process). */
function ownerOf(element) {
  const businessObject = getBusinessObject(element);
  if (is(element, "bpmn:Participant")) return businessObject.get("processRef") || null;
  if (isAny(businessObject, ["bpmn:Process", "bpmn:FlowNode"])) return businessObject;
  return null;
}

function formGroup(element) {
  if (!isAny(element, FORM_ELEMENTS)) return null;
  const entries = [
    {
      id: "zvh-formulier",
      component: FormSelect,
      property: FORM_PROPERTY,
      label: "Formulier (JSON Schema)",
      isEdited: isSelectEntryEdited,
    },
    {
      id: "zvh-ui-formulier",
      component: FormSelect,
      property: UI_PROPERTY,
      label: "Opmaak van het formulier (UI schema)",
      isEdited: isSelectEntryEdited,
    },
    {
      id: "zvh-instructies",
      component: ExtensionTextArea,
      type: "spiffworkflow:InstructionsForEndUser",
      label: "Instructies voor de medewerker",
      description: "Jinja-sjabloon; {{ naam }} toont een procesvariabele.",
      isEdited: isTextAreaEntryEdited,
    },
  ];
  return { id: "zvh-formulier-groep", label: "Formulier en instructies", component: Group, entries };
}

function scriptGroup(element) {
  if (!is(element, "bpmn:Activity") || is(element, "bpmn:SubProcess")) return null;
  const entries = [];
  if (is(element, "bpmn:ScriptTask")) {
    entries.push({ id: "zvh-script", component: ScriptText, isEdited: isTextAreaEntryEdited });
  }
  entries.push(
    {
      id: "zvh-prescript",
      component: ExtensionTextArea,
      type: "spiffworkflow:PreScript",
      label: "Voor de taak (pre-script)",
      monospace: true,
      isEdited: isTextAreaEntryEdited,
    },
    {
      id: "zvh-postscript",
      component: ExtensionTextArea,
      type: "spiffworkflow:PostScript",
      label: "Na de taak (post-script)",
      monospace: true,
      isEdited: isTextAreaEntryEdited,
    },
  );
  return { id: "zvh-scripts", label: "Scripts", component: Group, entries };
}

function laneGroup(element) {
  if (!is(element, "bpmn:Lane")) return null;
  return {
    id: "zvh-lane",
    label: "Rol",
    component: Group,
    entries: [{ id: "zvh-lane-rol", component: LaneRole, isEdited: isSelectEntryEdited }],
  };
}

function conditionGroup(element) {
  if (!is(element, "bpmn:SequenceFlow")) return null;
  const source = getBusinessObject(element).get("sourceRef");
  if (!source || !isAny(source, ["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway"])) return null;
  return {
    id: "zvh-voorwaarde",
    label: "Voorwaarde",
    component: Group,
    entries: [{ id: "zvh-voorwaarde-expressie", component: ConditionExpression, isEdited: isTextAreaEntryEdited }],
  };
}

function messageGroup(element) {
  if (!is(element, "bpmn:Event")) return null;
  const definition = (getBusinessObject(element).get("eventDefinitions") || []).find((d) =>
    is(d, "bpmn:MessageEventDefinition"),
  );
  if (!definition) return null;
  const throwing = isAny(element, ["bpmn:EndEvent", "bpmn:IntermediateThrowEvent"]);
  const entry = throwing
    ? {
        id: "zvh-bericht-inhoud",
        component: ExtensionTextArea,
        type: "spiffworkflow:MessagePayload",
        moddleElement: definition,
        label: "Inhoud van het bericht (Python-expressie)",
        description: 'Bijvoorbeeld: {"gemeente": gemeente, "bron": "aanmelding_triage"}',
        monospace: true,
        isEdited: isTextAreaEntryEdited,
      }
    : {
        id: "zvh-bericht-variabele",
        component: ExtensionTextField,
        type: "spiffworkflow:MessageVariable",
        moddleElement: definition,
        label: "Variabele voor de berichtinhoud",
        isEdited: isTextFieldEntryEdited,
      };
  return { id: "zvh-bericht", label: "Berichtinhoud", component: Group, entries: [entry] };
}

function decisionGroup(element) {
  if (!is(element, "bpmn:BusinessRuleTask")) return null;
  return {
    id: "zvh-beslissing",
    label: "Beslistabel (DMN)",
    component: Group,
    entries: [
      {
        id: "zvh-beslissing-id",
        component: ExtensionTextField,
        type: "spiffworkflow:CalledDecisionId",
        label: "Id van de beslissing",
        isEdited: isTextFieldEntryEdited,
      },
    ],
  };
}

function propertiesGroup(element, injector) {
  const owner = ownerOf(element);
  if (!owner) return null;
  const services = { bpmnFactory: injector.get("bpmnFactory"), commandStack: injector.get("commandStack") };
  const items = propertyList(owner)
    .filter((property) => !(isAny(owner, FORM_ELEMENTS) && FORM_PROPERTIES.has(property.get("name"))))
    .map((property, index) => {
      const id = `${element.id}-zvh-eigenschap-${index}`;
      return {
        id,
        label: property.get("name") ? `${property.get("name")} = ${property.get("value") || ""}` : "",
        autoFocusEntry: `${id}-naam`,
        entries: [
          { id: `${id}-naam`, component: PropertyField, property, field: "name", label: "Naam" },
          { id: `${id}-waarde`, component: PropertyField, property, field: "value", label: "Waarde" },
        ],
        remove: (event) => {
          event.stopPropagation();
          removeProperty(element, owner, property, services);
        },
      };
    });
  return {
    id: "zvh-eigenschappen",
    label: "Eigenschappen",
    tooltip: "spiffworkflow:properties: termijnen, normen, rondes en andere instellingen die scripts lezen",
    component: ListGroup,
    items,
    add: (event) => {
      event.stopPropagation();
      addProperty(element, owner, services);
    },
  };
}

export default class ZvhPropertiesProvider {
  constructor(propertiesPanel, injector) {
    this._injector = injector;
    propertiesPanel.registerProvider(500, this);
  }

  getGroups(element) {
    return (groups) => {
      const ours = [
        laneGroup(element),
        formGroup(element),
        conditionGroup(element),
        scriptGroup(element),
        messageGroup(element),
        decisionGroup(element),
        propertiesGroup(element, this._injector),
      ].filter(Boolean);
      // right after "General" (name and id), before documentation and the generic groups
      const general = groups.findIndex((group) => group.id === "general");
      groups.splice(general + 1, 0, ...ours);
      return groups;
    };
  }
}

ZvhPropertiesProvider.$inject = ["propertiesPanel", "injector"];
