"""The written definition of every report figure, shown next to it, and which seed figure each one reproduces.

One definition per figure. The ZVH's own 2021 annual report contradicts itself twice (Weegploeg triage 31 in one
table and 21 in another; procesregie 80 in the activity table and 83 new cases in the municipal table); the notes
here say which of the two each definition reproduces, instead of papering over the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.privacy.organisations import GEMEENTEN
from engine.reports.facts import OVERIG

#: The report rows: the nine gemeenten of the district, then Overig (as the annual report has them).
GEMEENTE_ROWS: dict[str, str] = {
    **GEMEENTEN,
    OVERIG: "Overig (zonder vaste verblijfplaats, buiten district, woonplaats geheim)",
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


MELDINGEN = Figure(
    key="meldingen",
    title="Meldingen per gemeente per jaar",
    definition=(
        "Het aantal zaken met complexe veiligheidsproblematiek dat is aangemeld en ter triage is aangeboden: een "
        "aanmelding (proces Aanmelding en triage) telt zodra de screening haar volledig heeft bevonden en zij naar "
        "de triagetafel met MaSS en Veilig Thuis gaat, in het jaar (Nederlandse tijd) waarin zij is ingediend, "
        "bij de gemeente van de hoofdbetrokkene op dat moment. Als onvolledig afgewezen aanmeldingen en signalen "
        "die naar de Weegploeg gaan tellen niet; een afgewezen triagebesluit telt wel."
    ),
    note="Reproduceert de tabel 'Aantal meldingen per gemeente per jaar' (2016–2021, totaal 2021: 122).",
)
CASUSSEN = Figure(
    key="casussen",
    title="Nieuw gestarte casussen procesregie per gemeente per jaar",
    definition=(
        "Het aantal casussen waarover het ZVH procesregie voert, geteld in het jaar waarin het proces Procesregie "
        "startte (na triage, vanuit de Weegploeg, re-integratie of mensenhandel), bij de gemeente van de "
        "hoofdbetrokkene bij de start. Een casus kan starten uit een melding van een eerder jaar."
    ),
    note=(
        "Reproduceert de tabel 'Opvolging meldingen: nieuw gestarte casussen' (totaal 2021: 83). De activiteitentabel "
        "van het jaarverslag noemt 80 zaken regie; dat getal volgt niet uit deze definitie en wordt niet nagebootst."
    ),
)
ACTIVITEITEN = Figure(
    key="activiteiten",
    title="Activiteiten: prognose en resultaat",
    definition="Per thema het resultaat van het jaar, geteld volgens de definitie bij het thema, naast de prognose.",
    note="Prognoses voert een manager per jaar in; het verschil is resultaat min prognose.",
)
DOORLOOPTIJDEN = Figure(
    key="doorlooptijden",
    title="Doorlooptijden",
    definition=(
        "Per proces: de tijd van start tot afronding van de zaken die in het jaar zijn afgerond; per stap: de tijd "
        "van openstaan tot afronden van de taken die in het jaar zijn afgerond. Mediaan en 90e percentiel, in dagen."
    ),
    note="Het jaarverslag 2021 noemt geen doorlooptijden.",
)
KENGETALLEN = Figure(
    key="kengetallen",
    title="Kengetallen voor het landelijk beeld",
    definition=(
        "Alle getelde kengetallen per kwartaal en gemeente (CBS-code), alleen als aantallen; cellen onder de 5 en de "
        "cellen waaruit zij terug te rekenen zijn, zijn altijd onderdrukt."
    ),
    note="Bedoeld om over meerdere Zorg- en Veiligheidshuizen op te tellen.",
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


THEMES: tuple[Theme, ...] = (
    Theme(
        key="triage",
        title="Gezamenlijke triage met MaSS en Veilig Thuis, en in de Weegploeg",
        unit="zaken",
        definition=(
            "Meldingen die ter triage met MaSS en Veilig Thuis zijn aangeboden (zie Meldingen) plus signalen die de "
            "Weegploeg in het jaar heeft gewogen."
        ),
        parts=(Part("met MaSS en Veilig Thuis", "melding"), Part("door de Weegploeg", "weegploeg_triage")),
        note=(
            "Het jaarverslag telt 153 = 122 + 31; met de Weegploeg-definitie hieronder (21) wordt het 143. De 122 "
            "wordt nagebootst, de 31 niet."
        ),
        split=True,
    ),
    Theme(
        key="procesregie",
        title="Regie over complexe casuïstiek, inclusief radicalisering",
        unit="zaken",
        definition="Nieuw gestarte casussen procesregie in het jaar (zie Casussen).",
        parts=(Part("casussen", "casus"),),
        note="Jaarverslag: 80 zaken (prognose 75); deze definitie geeft 83, gelijk aan de gemeentetabel.",
    ),
    Theme(
        key="weegploeg",
        title="Triage in de Weegploeg Radicalisering en Extremisme",
        unit="zaken",
        definition="Signalen die in het jaar in de Weegploeg zijn gewogen (de eerste weging is vastgelegd).",
        parts=(Part("gewogen signalen", "weegploeg_triage"),),
        note=(
            "Reproduceert de 21 zaken (prognose 30) van de tabel Radicalisering en Extremisme; de 31 van de tabel "
            "Complexe casuïstiek volgt niet uit deze definitie."
        ),
    ),
    Theme(
        key="reintegratie",
        title="Coördineren van re-integratie ex-gedetineerden",
        unit="personen",
        definition=(
            "Meldingen begin detentie (proces Re-integratie) die in het jaar zijn gestart; iedere melding is één "
            "persoon met één detentie."
        ),
        parts=(Part("personen", "reintegratie"),),
        note="Reproduceert 352 personen (prognose 300).",
    ),
    Theme(
        key="bij",
        title="Wegen en aanpakken van casuïstiek BIJ",
        unit="zaken",
        definition="BIJ-meldingen die in het jaar zijn ontvangen.",
        parts=(Part("zaken", "bij"),),
        note="Reproduceert 24 zaken (prognose 20).",
    ),
    Theme(
        key="isd",
        title="Traject Inrichting Stelselmatige Daders",
        unit="personen",
        definition="Kandidaten stelselmatige dader die in het jaar zijn aangemeld (proces ISD-traject).",
        parts=(Part("personen", "isd"),),
        note="Reproduceert 9 personen (geen prognose in het jaarverslag).",
    ),
    Theme(
        key="mensenhandel",
        title="Zorgcoördinatie slachtoffers mensenhandel",
        unit="zaken",
        definition="Signalen mensenhandel die in het jaar zijn ontvangen.",
        parts=(Part("zaken", "mensenhandel"),),
        note="Reproduceert 41 zaken (prognose 30).",
    ),
    Theme(
        key="inzageverzoek",
        title="Inzage- en vernietigingsverzoeken",
        unit="verzoeken",
        definition="Verzoeken van betrokkenen die in het jaar zijn ontvangen.",
        parts=(Part("verzoeken", "inzageverzoek"),),
        note="Reproduceert 3 verzoeken.",
    ),
    Theme(
        key="datalek",
        title="Datalekken en beveiligingsincidenten",
        unit="incidenten",
        definition="Incidenten die in het jaar in het register zijn vastgelegd, naar de categorie in het register.",
        parts=(
            Part("beveiligingsincident", "datalek", "beveiligingsincident"),
            Part("datalek, niet meldplichtig", "datalek", "datalek_niet_meldplichtig"),
            Part("gemeld bij de Autoriteit Persoonsgegevens", "datalek", "datalek_gemeld_bij_ap"),
        ),
        note="Reproduceert 5 incidenten: 2 beveiligingsincidenten en 3 datalekken die niet gemeld hoefden te worden.",
        split=True,
    ),
)
THEMES_BY_KEY = {theme.key: theme for theme in THEMES}
#: The prognoses of the annual report 2021, entered with the synthetic history.
PROGNOSES_2021 = {"triage": 130, "procesregie": 75, "weegploeg": 30, "reintegratie": 300, "bij": 20, "mensenhandel": 30}
