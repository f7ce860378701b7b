"""The written definition of every report figure, shown next to it, and which seed figure each one reproduces.

One definition per figure. The ZVH's own 2021 annual report contradicts itself twice (Weegploeg triage 31 in one
table and 21 in another; procesregie 80 in the activity table and 83 new cases in the municipal table); the notes
here say which of the two each definition reproduces, instead of papering over the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.i18n import N_
from engine.privacy.organisations import GEMEENTEN
from engine.reports.facts import OVERIG

#: A translation of a catalogue message with its `%(name)s` placeholders filled (`engine.i18n.translated`, `dutch`).
Translate = Callable[..., str]


def dutch(message: str, **params: object) -> str:
    """`message` as written — in Dutch, the catalogue's source language — with its placeholders filled.

    The reports' language for the CLI and the downloads (whatever language the page they came from shows); the pages
    pass `engine.i18n.translated` instead.
    """
    return message % params if params else message


#: The report rows: the nine gemeenten of the district, then Overig (as the annual report has them).
GEMEENTE_ROWS: dict[str, str] = {
    **GEMEENTEN,
    OVERIG: N_("Overig (zonder vaste verblijfplaats, buiten district, woonplaats geheim)"),
}
#: CBS gemeentecodes, so a landelijk netwerk can add up the kengetallen of several ZVHs.
CBS_CODES = {
    "alphen-chaam": "GM1723",
    "altena": "GM1959",
    "baarle-nassau": "GM0744",
    "breda": "GM0758",
    "drimmelen": "GM1719",
    "etten-leur": "GM0777",
    "geertruidenberg": "GM0779",
    "oosterhout": "GM0826",
    "zundert": "GM0879",
}
#: Cells below this are suppressed in reports shared outside the ZVH (and always in the kengetallen).
SMALL_CELL = 5


@dataclass(frozen=True)
class Figure:
    """A reported figure: its name, its one written definition, and a note on the seed figure it reproduces."""

    key: str
    title: str
    definition: str
    note: str

    def in_language(self, translate: Translate) -> Figure:
        """The figure with its title, definition and note in the language of `translate`."""
        return replace(
            self, title=translate(self.title), definition=translate(self.definition), note=translate(self.note)
        )


MELDINGEN = Figure(
    key="meldingen",
    title=N_("Meldingen per gemeente per jaar"),
    definition=N_(
        "Het aantal zaken met complexe veiligheidsproblematiek dat is aangemeld en ter triage is aangeboden: een "
        "aanmelding (proces Aanmelding en triage) telt zodra de screening haar volledig heeft bevonden en zij naar "
        "de triagetafel met MaSS en Veilig Thuis gaat, in het jaar (Nederlandse tijd) waarin zij is ingediend, "
        "bij de gemeente van de hoofdbetrokkene op dat moment. Als onvolledig afgewezen aanmeldingen en signalen "
        "die naar de Weegploeg gaan tellen niet; een afgewezen triagebesluit telt wel."
    ),
    note=N_("Reproduceert de tabel 'Aantal meldingen per gemeente per jaar' (2016–2021, totaal 2021: 122)."),
)
CASUSSEN = Figure(
    key="casussen",
    title=N_("Nieuw gestarte casussen procesregie per gemeente per jaar"),
    definition=N_(
        "Het aantal casussen waarover het ZVH procesregie voert, geteld in het jaar waarin het proces Procesregie "
        "startte (na triage, vanuit de Weegploeg, re-integratie of mensenhandel), bij de gemeente van de "
        "hoofdbetrokkene bij de start. Een casus kan starten uit een melding van een eerder jaar."
    ),
    note=N_(
        "Reproduceert de tabel 'Opvolging meldingen: nieuw gestarte casussen' (totaal 2021: 83). De activiteitentabel "
        "van het jaarverslag noemt 80 zaken regie; dat getal volgt niet uit deze definitie en wordt niet nagebootst."
    ),
)
ACTIVITEITEN = Figure(
    key="activiteiten",
    title=N_("Activiteiten: prognose en resultaat"),
    definition=N_(
        "Per thema het resultaat van het jaar, geteld volgens de definitie bij het thema, naast de prognose."
    ),
    note=N_("Prognoses voert een manager per jaar in; het verschil is resultaat min prognose."),
)
DOORLOOPTIJDEN = Figure(
    key="doorlooptijden",
    title=N_("Doorlooptijden"),
    definition=N_(
        "Per proces: de tijd van start tot afronding van de zaken die in het jaar zijn afgerond; per stap: de tijd "
        "van openstaan tot afronden van de taken die in het jaar zijn afgerond. Mediaan en 90e percentiel, in dagen."
    ),
    note=N_("Het jaarverslag 2021 noemt geen doorlooptijden."),
)
KENGETALLEN = Figure(
    key="kengetallen",
    title=N_("Kengetallen voor het landelijk beeld"),
    definition=N_(
        "Alle getelde kengetallen per kwartaal en gemeente (CBS-code), alleen als aantallen; cellen onder de 5 en de "
        "cellen waaruit zij terug te rekenen zijn, zijn altijd onderdrukt."
    ),
    note=N_("Bedoeld om over meerdere Zorg- en Veiligheidshuizen op te tellen."),
)
FIGURES = {f.key: f for f in (MELDINGEN, CASUSSEN, ACTIVITEITEN, DOORLOOPTIJDEN, KENGETALLEN)}


@dataclass(frozen=True)
class Part:
    """One counted part of a theme: a kengetal, optionally only facts with one split value."""

    label: str
    kengetal: str
    uitsplitsing: str | None = None


@dataclass(frozen=True)
class Theme:
    """An activity of the annual report: what counts, in which unit, and what the seed says about it."""

    key: str
    title: str
    unit: str
    definition: str
    parts: tuple[Part, ...]
    note: str
    #: whether the parts are shown as a split under the total
    split: bool = False

    def in_language(self, translate: Translate) -> Theme:
        """The theme with its texts (title, unit, definition, note, part labels) in the language of `translate`."""
        return replace(
            self,
            title=translate(self.title),
            unit=translate(self.unit),
            definition=translate(self.definition),
            note=translate(self.note),
            parts=tuple(replace(part, label=translate(part.label)) for part in self.parts),
        )


THEMES: tuple[Theme, ...] = (
    Theme(
        key="triage",
        title=N_("Gezamenlijke triage met MaSS en Veilig Thuis, en in de Weegploeg"),
        unit=N_("zaken"),
        definition=N_(
            "Meldingen die ter triage met MaSS en Veilig Thuis zijn aangeboden (zie Meldingen) plus signalen die de "
            "Weegploeg in het jaar heeft gewogen."
        ),
        parts=(Part(N_("met MaSS en Veilig Thuis"), "melding"), Part(N_("door de Weegploeg"), "weegploeg_triage")),
        note=N_(
            "Het jaarverslag telt 153 = 122 + 31; met de Weegploeg-definitie hieronder (21) wordt het 143. De 122 "
            "wordt nagebootst, de 31 niet."
        ),
        split=True,
    ),
    Theme(
        key="procesregie",
        title=N_("Regie over complexe casuïstiek, inclusief radicalisering"),
        unit=N_("zaken"),
        definition=N_("Nieuw gestarte casussen procesregie in het jaar (zie Casussen)."),
        parts=(Part(N_("casussen"), "casus"),),
        note=N_("Jaarverslag: 80 zaken (prognose 75); deze definitie geeft 83, gelijk aan de gemeentetabel."),
    ),
    Theme(
        key="weegploeg",
        title=N_("Triage in de Weegploeg Radicalisering en Extremisme"),
        unit=N_("zaken"),
        definition=N_("Signalen die in het jaar in de Weegploeg zijn gewogen (de eerste weging is vastgelegd)."),
        parts=(Part(N_("gewogen signalen"), "weegploeg_triage"),),
        note=N_(
            "Reproduceert de 21 zaken (prognose 30) van de tabel Radicalisering en Extremisme; de 31 van de tabel "
            "Complexe casuïstiek volgt niet uit deze definitie."
        ),
    ),
    Theme(
        key="reintegratie",
        title=N_("Coördineren van re-integratie ex-gedetineerden"),
        unit=N_("personen"),
        definition=N_(
            "Meldingen begin detentie (proces Re-integratie) die in het jaar zijn gestart; iedere melding is één "
            "persoon met één detentie."
        ),
        parts=(Part(N_("personen"), "reintegratie"),),
        note=N_("Reproduceert 352 personen (prognose 300)."),
    ),
    Theme(
        key="bij",
        title=N_("Wegen en aanpakken van casuïstiek BIJ"),
        unit=N_("zaken"),
        definition=N_("BIJ-meldingen die in het jaar zijn ontvangen."),
        parts=(Part(N_("zaken"), "bij"),),
        note=N_("Reproduceert 24 zaken (prognose 20)."),
    ),
    Theme(
        key="isd",
        title=N_("Traject Inrichting Stelselmatige Daders"),
        unit=N_("personen"),
        definition=N_("Kandidaten stelselmatige dader die in het jaar zijn aangemeld (proces ISD-traject)."),
        parts=(Part(N_("personen"), "isd"),),
        note=N_("Reproduceert 9 personen (geen prognose in het jaarverslag)."),
    ),
    Theme(
        key="mensenhandel",
        title=N_("Zorgcoördinatie slachtoffers mensenhandel"),
        unit=N_("zaken"),
        definition=N_(
            "Signalen mensenhandel die in het jaar zijn ontvangen, naar het Zorg- en Veiligheidshuis van herkomst: "
            "een signaal uit het buurdistrict telt als De Markiezaten, niet als Overig."
        ),
        parts=(
            Part(N_("uit het eigen district"), "mensenhandel", "de_baronie"),
            Part(N_("uit De Markiezaten (buiten district)"), "mensenhandel", "de_markiezaten"),
        ),
        note=N_("Reproduceert 41 zaken (prognose 30)."),
        split=True,
    ),
    Theme(
        key="inzageverzoek",
        title=N_("Inzage- en vernietigingsverzoeken"),
        unit=N_("verzoeken"),
        definition=N_("Verzoeken van betrokkenen die in het jaar zijn ontvangen."),
        parts=(Part(N_("verzoeken"), "inzageverzoek"),),
        note=N_("Reproduceert 3 verzoeken."),
    ),
    Theme(
        key="datalek",
        title=N_("Datalekken en beveiligingsincidenten"),
        unit=N_("incidenten"),
        definition=N_("Incidenten die in het jaar in het register zijn vastgelegd, naar de categorie in het register."),
        parts=(
            Part(N_("beveiligingsincident"), "datalek", "beveiligingsincident"),
            Part(N_("datalek, niet meldplichtig"), "datalek", "datalek_niet_meldplichtig"),
            Part(N_("gemeld bij de Autoriteit Persoonsgegevens"), "datalek", "datalek_gemeld_bij_ap"),
        ),
        note=N_(
            "Reproduceert 5 incidenten: 2 beveiligingsincidenten en 3 datalekken die niet gemeld hoefden te worden."
        ),
        split=True,
    ),
    Theme(
        key="levensloop",
        title=N_("Levensloopaanpak: verward gedrag met een hoog veiligheidsrisico"),
        unit=N_("personen"),
        definition=N_(
            "Personen die de onafhankelijk voorzitter in het jaar in de Levensloopaanpak heeft opgenomen "
            "(ketenveldnorm levensloopfunctie en beveiligde intensieve zorg)."
        ),
        parts=(Part(N_("opgenomen personen"), "levensloop"),),
        note=N_(
            "Het jaarverslag 2021 beschrijft de invoering van de ketenveldnorm, nog zonder aantallen; de synthetische "
            "geschiedenis bevat deze aanpak niet."
        ),
    ),
    Theme(
        key="advies_op_verzoek",
        title=N_("Advies op verzoek"),
        unit=N_("adviezen"),
        definition=N_(
            "Adviesvragen van partners die het ZVH in het jaar heeft beantwoord (proces Advies op verzoek), ook als de "
            "vraag daarna een aanmelding werd."
        ),
        parts=(Part(N_("adviezen"), "advies_op_verzoek"),),
        note=N_(
            "Het jaarverslag 2021 noemt 'meerdere per dag', zonder aantal; de synthetische geschiedenis bevat ze niet."
        ),
    ),
    Theme(
        key="zsm_context",
        title=N_("Contextinformatie voor ZSM"),
        unit=N_("verzoeken"),
        definition=N_(
            "Verzoeken van ZSM om contextinformatie over strafrechtelijk minderjarige verdachten die in het jaar zijn "
            "ontvangen."
        ),
        parts=(Part(N_("verzoeken"), "zsm_context"),),
        note=N_(
            "Het jaarverslag 2021 noemt de afspraken met ZSM, zonder aantallen; de synthetische geschiedenis bevat "
            "ze niet."
        ),
    ),
)
THEMES_BY_KEY = {theme.key: theme for theme in THEMES}
#: The prognoses of the annual report 2021, entered with the synthetic history.
PROGNOSES_2021 = {"triage": 130, "procesregie": 75, "weegploeg": 30, "reintegratie": 300, "bij": 20, "mensenhandel": 30}
