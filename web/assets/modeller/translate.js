// Dutch labels for the parts of bpmn-js and the properties panel a process owner sees (palette, context pad,
// generic panel groups, lint button) on a Dutch page. Strings without a translation stay English.
const NL = {
  // palette and context pad
  "Activate hand tool": "Handje: diagram verschuiven",
  "Activate lasso tool": "Lasso: elementen selecteren",
  "Activate create/remove space tool": "Ruimte maken of weghalen",
  "Activate global connect tool": "Elementen verbinden",
  "Create start event": "Startgebeurtenis",
  "Create intermediate/boundary event": "Tussengebeurtenis of termijn",
  "Create end event": "Eindgebeurtenis",
  "Create gateway": "Beslissing (gateway)",
  "Create task": "Taak",
  "Create expanded sub-process": "Deelproces",
  "Create data object reference": "Gegevensobject",
  "Create data store reference": "Gegevensopslag",
  "Create pool/participant": "Pool",
  "Create group": "Groep",
  "Append end event": "Eindgebeurtenis toevoegen",
  "Append gateway": "Beslissing toevoegen",
  "Append task": "Taak toevoegen",
  "Append intermediate/boundary event": "Tussengebeurtenis toevoegen",
  "Append text annotation": "Opmerking toevoegen",
  "Add text annotation": "Opmerking toevoegen",
  "Change element": "Soort wijzigen",
  "Change type": "Soort wijzigen",
  Delete: "Verwijderen",
  "Connect to other element": "Verbinden met een ander element",
  "Connect using association": "Verbinden met een associatie",
  "Connect using sequence/message flow or association": "Verbinden",
  "Add lane above": "Lane erboven",
  "Add lane below": "Lane eronder",
  "Divide into two lanes": "Splitsen in twee lanes",
  "Divide into three lanes": "Splitsen in drie lanes",
  // generic properties panel
  General: "Algemeen",
  Name: "Naam",
  ID: "Id",
  Documentation: "Documentatie",
  "Element documentation": "Toelichting bij het element",
  "Process documentation": "Toelichting bij het proces",
  Executable: "Uitvoerbaar",
  "Process": "Proces",
  "Process name": "Procesnaam",
  "Process ID": "Proces-id",
  Timer: "Termijn (timer)",
  Type: "Soort",
  Date: "Datum",
  Duration: "Duur",
  Cycle: "Herhaling",
  Value: "Waarde",
  "<none>": "(geen)",
  Message: "Bericht",
  "Global message reference": "Bericht",
  "Create new ...": "Nieuw…",
  Signal: "Signaal",
  Error: "Fout",
  Escalation: "Escalatie",
  "Multi-instance": "Meervoudig uitvoeren",
  "Toggle section": "Open of dicht",
  "Create new list item": "Toevoegen",
  "Delete item": "Verwijderen",
  "Toggle list item": "Open of dicht",
  "<empty>": "(leeg)",
  "Select an element to edit its properties.": "Kies een element om zijn eigenschappen te wijzigen.",
  "Multiple elements are selected. Select a single one to edit its properties.":
    "Er zijn meerdere elementen gekozen. Kies er één om de eigenschappen te wijzigen.",
  "Must be a valid QName.": "Moet een geldige QName zijn.",
  "ID must not be empty.": "Het id mag niet leeg zijn.",
  "ID must be unique.": "Het id moet uniek zijn.",
  "ID must not contain spaces.": "Het id mag geen spaties bevatten.",
  // lint (bpmn-js-bpmnlint)
  "No Issues": "Geen meldingen",
  "{errors} Errors, {warnings} Warnings": "{errors} fout(en), {warnings} waarschuwing(en)",
  "Issues for child elements": "Meldingen bij onderliggende elementen",
  "Toggle linting overlays": "Lintmeldingen tonen of verbergen",
};

// The page's language (the user can choose English); the modeller's own messages are Dutch either way.
const lang = (typeof document !== "undefined" && document.documentElement.lang) || "nl";
const DICTIONARY = lang.startsWith("nl") ? NL : {};

function translate(template, replacements) {
  const text = DICTIONARY[template] || template;
  return text.replace(/{([^}]+)}/g, (match, key) => (replacements && key in replacements ? replacements[key] : match));
}

export default { translate: ["value", translate] };
