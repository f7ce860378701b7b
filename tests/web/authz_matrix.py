"""Who may use which route: the declarative authorization matrix (tests/web/test_authorization_matrix.py checks it).

Every route of `app.url_map` × method has one entry, "<METHOD> <endpoint>". An entry names the subjects allowed
(see `SUBJECTS` in tests/web/authz_world.py); every other signed-in subject must be refused with `denied` — 404
where the page or object must not reveal it exists (cases, tasks, the modeller, Storingen), 403 where the page is
known but not theirs. Anonymous visitors are sent to sign in (the API answers 401). For case and task routes
`targets` gives the allowed subjects per object: a Breda case (participants: the melder who started it and an
added ketenpartner — a second ketenpartner is not one; its open task is in the screeners' queue) and two cases with
a task in Breda's and in Zundert's gemeente queue (a procesregisseur was added to the Breda one). An allowed
subject may still get 400/409/422 for the (empty or made-up) input: that is past authorization.

A new route fails the test until it has an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tests.web.authz_world import SUBJECTS
from tests.web.conftest import PASSWORD

EVERYONE = frozenset(SUBJECTS)
COORDINATORS = frozenset({"coordinator", "manager"})
REPAIRERS = frozenset({"beheerder", "procesbeheerder", "manager"})
PROCESS_OWNER = frozenset({"procesbeheerder"})
FG = frozenset({"privacyfunctionaris"})
RETENTION = frozenset({"manager", "privacyfunctionaris"})
REPORTS = frozenset({"manager"})
STARTERS = frozenset({"melder"})  # the Melder lane starts `melding` and `gemeentetaak`
#: Who may ask for noodtoegang (engine.access): the ZVH's own people who work on cases (not beheer), coordinators
#: and managers.
ZVH_STAFF = frozenset(
    {
        "screener",
        "triagetafel",
        "procesregisseur",
        "casusregisseur",
        "coordinator",
        "manager",
        "privacyfunctionaris",
    }
)

#: Who may see each case: who takes part, or has one of its open tasks in their inbox.
CASE_VIEWERS = {
    "case_breda": frozenset({"melder", "deelnemer", "screener"}),
    "gm_breda": frozenset({"melder", "gemeente_breda", "procesregisseur"}),  # the procesregisseur was added
    "gm_zundert": frozenset({"melder", "gemeente_zundert"}),
}
#: Whose inbox holds each task (a gemeente's task reaches only that gemeente's `gemeente` role).
TASK_HOLDERS = {
    "task_case_breda": frozenset({"screener"}),
    "task_gm_breda": frozenset({"gemeente_breda"}),
    "task_gm_zundert": frozenset({"gemeente_zundert"}),
}
#: An inzageverzoek's pages: the FG only — also the case pages of the request are not the FG's business otherwise.
INZAGE = {"inzageverzoek": FG}
PDF = "making the PDF takes seconds: the FG's download is tested in tests/web/test_inzage_pages.py"
#: Who may manage a case's participants: a viewer with one of these roles (engine.access.PARTICIPANT_MANAGERS).
PARTICIPANT_MANAGERS = frozenset({"procesregisseur", "coordinator"})


@dataclass(frozen=True)
class Rule:
    """Who may use one route × method, and how the others are refused."""

    allowed: frozenset[str] = frozenset()
    #: the answer to signed-in subjects who are not allowed: 403 or 404 ("login" for signing out)
    denied: int | str = 404
    #: the answer to anonymous visitors: "login" (a redirect to the sign-in page), "401" (API) or "allowed"
    anonymous: str = "login"
    #: per object (a key of `World.ids`) the subjects allowed; the route's `instance_id` / `task_id` is that object
    targets: dict[str, frozenset[str]] = field(default_factory=dict)
    #: per object (None: the route) who knows it exists but may not do this, and so gets 403 instead of `denied`
    forbidden: dict[str | None, frozenset[str]] = field(default_factory=dict)
    #: the form (or JSON) to post; the matrix checks authorization only, so input errors (400/409/422) are fine
    body: dict[str, Any] = field(default_factory=dict)
    #: False where an allowed subject's answer is slow to make and checked elsewhere (a PDF, a sign-in): only the
    #: anonymous visitor and the refusals are checked
    check_allowed: bool = True
    #: why a route is covered less than fully
    note: str = ""


def signed_in(**kwargs: Any) -> Rule:
    return Rule(allowed=EVERYONE, **kwargs)


def public(**kwargs: Any) -> Rule:
    return Rule(allowed=EVERYONE, anonymous="allowed", **kwargs)


#: A coordinator sees every open task in the team view, and so the cases of those tasks (all three have one); they
#: manage no participants there (engine.access.may_manage_participants). A manager opens a case from the Bewaking.
CASE_READERS = {name: viewers | {"coordinator"} for name, viewers in CASE_VIEWERS.items()}


def case(**kwargs: Any) -> Rule:
    return Rule(targets=CASE_READERS, **kwargs)


def task(**kwargs: Any) -> Rule:
    return Rule(targets=TASK_HOLDERS, **kwargs)


def owner_only(**kwargs: Any) -> Rule:
    return Rule(allowed=PROCESS_OWNER, **kwargs)


def api(rule: Rule) -> Rule:
    return replace(rule, anonymous="401")


def participants_managed() -> dict[str, Any]:
    """Adding or removing a participant: viewers who manage participants; other viewers 403, the rest 404."""
    return {
        "targets": {name: viewers & PARTICIPANT_MANAGERS for name, viewers in CASE_VIEWERS.items()},
        "forbidden": {
            name: CASE_READERS[name] - (viewers & PARTICIPANT_MANAGERS) for name, viewers in CASE_VIEWERS.items()
        },
    }


#: Coordinators see the team's tasks (so not a 404) but hold no role to claim or complete them (403).
TEAM_FORBIDDEN: dict[str | None, frozenset[str]] = {name: COORDINATORS for name in TASK_HOLDERS}

#: Extending a task's deadline (engine.deadlines): coordinators who see the case and the procesregisseur who works on
#: it (added to the Breda gemeente case); the case's other viewers know the task (403), a manager does not see it.
TASK_CASES = {"task_case_breda": "case_breda", "task_gm_breda": "gm_breda", "task_gm_zundert": "gm_zundert"}
DEADLINE_EXTENDERS = {
    task: CASE_READERS[case] & frozenset({"coordinator", "procesregisseur"}) for task, case in TASK_CASES.items()
}
DEADLINE_FORBIDDEN: dict[str | None, frozenset[str]] = {
    task: CASE_READERS[case] - DEADLINE_EXTENDERS[task] for task, case in TASK_CASES.items()
}

#: (overleg, issue 14) The world's triagetafel: its chair, and its chair and invited member.
OVERLEG_CHAIR = frozenset({"triagetafel"})
OVERLEG_MEMBERS = frozenset({"triagetafel", "screener"})

#: Pausing a case's legal deadlines (engine.suspension): only the inzageverzoek has one; its handler (the FG) and the
#: coordinator (who sees its task in the team view) may.
PAUSERS = {"inzageverzoek": FG | {"coordinator"}, **{case: frozenset[str]() for case in CASE_READERS}}
PAUSE_FORBIDDEN: dict[str | None, frozenset[str]] = dict(CASE_READERS)


MATRIX: dict[str, Rule] = {
    # --- sign-in, sessions, language ---------------------------------------------------------------------------
    "GET auth.login": public(),
    "POST auth.login": public(
        body={"gebruikersnaam": "mila", "wachtwoord": PASSWORD},
        check_allowed=False,
        note="signing in starts a new session whoever asks: checked once, anonymously (argon2 is slow on purpose)",
    ),
    "POST auth.logout": Rule(denied="login", note="signing out ends on the sign-in page, for everyone"),
    "GET auth.session_status": public(),
    "POST auth.extend_session": signed_in(),
    "POST auth.choose_language": public(),
    "GET auth.my_sessions": signed_in(),
    "POST auth.end_other_sessions": signed_in(),
    "POST auth.end_one_session": Rule(allowed=frozenset({"screener", "beheerder"})),  # the screener's session
    "GET auth.password": signed_in(),
    "POST auth.password": signed_in(),
    "GET auth.all_sessions": Rule(allowed=frozenset({"beheerder"}), denied=403),
    # the code step belongs to a sign-in in progress: without one, everyone is sent back to the sign-in page
    "GET twofactor.second_step": Rule(denied="login"),
    "POST twofactor.second_step": Rule(denied="login"),
    "GET twofactor.enrol": signed_in(),
    "POST twofactor.enrol": signed_in(),
    "GET twofactor.manage": signed_in(),
    "POST twofactor.new_recovery_codes": signed_in(),
    "GET accounts.review": Rule(allowed=frozenset({"beheerder"}), denied=403),
    "POST accounts.disable": Rule(allowed=frozenset({"beheerder"}), denied=403),  # sanne's account
    "POST accounts.reset_second_factor": Rule(allowed=frozenset({"beheerder"}), denied=403),
    # --- inbox, tasks, starting --------------------------------------------------------------------------------
    "GET inbox.home": signed_in(),
    "GET inbox.index": signed_in(),
    "POST inbox.claim": task(forbidden=TEAM_FORBIDDEN),
    "POST inbox.unclaim": Rule(targets={name: holders | COORDINATORS for name, holders in TASK_HOLDERS.items()}),
    "POST inbox.reassign": Rule(
        allowed=COORDINATORS,
        denied=403,
        body={"taak": "{task_case_breda}", "collega": "sanne", "reden": "Werkverdeling"},
    ),
    "POST inbox.store_filter": signed_in(),
    "POST inbox.remove_filter": Rule(allowed=frozenset({"screener"})),  # the screener's saved filter
    "GET tasks.task": Rule(
        targets={name: holders | {"coordinator"} for name, holders in TASK_HOLDERS.items()},
        note="coordinators open a team task read-only (its POST stays the holders')",
    ),
    "POST tasks.submit": task(),
    "GET tasks.start_list": signed_in(),
    "GET tasks.start_form": Rule(allowed=STARTERS),
    "POST tasks.start": Rule(allowed=STARTERS),
    # --- cases -------------------------------------------------------------------------------------------------
    "GET cases.index": signed_in(),
    "GET cases.case": case(),
    "GET cases.diagram": case(),
    "POST cases.add": Rule(**participants_managed(), body={"collega": "sanne", "reden": ""}),
    "POST cases.remove": Rule(**participants_managed(), body={"reden": ""}),
    "GET cases.emergency": Rule(allowed=ZVH_STAFF),
    "POST cases.emergency": Rule(allowed=ZVH_STAFF, note="posted without a reason: refused as input (422)"),
    # --- notifications, cover ----------------------------------------------------------------------------------
    "GET notifications.index": signed_in(),
    "GET notifications.open_one": Rule(allowed=frozenset({"screener"})),  # the screener's notification
    "POST notifications.read_all": signed_in(),
    "GET notifications.settings": signed_in(),
    "POST notifications.settings": signed_in(),
    "GET substitutions.index": signed_in(),
    "POST substitutions.store": Rule(
        allowed=COORDINATORS,
        denied=403,
        body={"afwezige": "sanne", "reden": "Ziek"},
        note="cover for a colleague: coordinators only (one's own cover: tests/web/test_substitutions.py)",
    ),
    "POST substitutions.withdraw": Rule(allowed=frozenset({"screener"}) | COORDINATORS, denied=403),  # screener's
    "POST substitutions.move_tasks": Rule(
        allowed=frozenset({"screener"}) | COORDINATORS, denied=403, body={"reden": "Vakantie"}
    ),
    # --- monitor (managers and coordinators) -------------------------------------------------------------------
    "GET monitor.index": Rule(allowed=COORDINATORS, denied=403),
    "POST monitor.note": Rule(allowed=COORDINATORS, denied=403),
    "POST monitor.escalation": Rule(allowed=COORDINATORS, denied=403),
    "POST monitor.open_from_monitor": Rule(allowed=COORDINATORS, denied=403),
    "POST monitor.retry": Rule(allowed=frozenset({"manager"}), denied=403, note="coordinators see, managers retry"),
    "GET monitor_analysis.heatmap": Rule(allowed=COORDINATORS, denied=403),
    "GET monitor_analysis.heatmap_data": Rule(allowed=COORDINATORS, denied=403),
    "GET monitor_analysis.waiting": Rule(allowed=COORDINATORS, denied=403),
    "GET monitor_analysis.throughput_page": Rule(allowed=COORDINATORS, denied=403),
    # --- Storingen (who may retry a failed step) ---------------------------------------------------------------
    "GET admin.errors": Rule(allowed=REPAIRERS),
    "POST admin.retry": Rule(allowed=REPAIRERS),
    # --- the privacy officer's pages ---------------------------------------------------------------------------
    "GET privacy.logbook": Rule(allowed=FG, denied=403),
    "POST privacy.logbook_person": Rule(allowed=FG, denied=403),
    "GET privacy.person": Rule(allowed=FG, denied=403),
    "POST privacy.person_lookup": Rule(allowed=FG, denied=403),
    "GET privacy.emergencies": Rule(allowed=FG, denied=403),
    "GET privacy.refusals": Rule(allowed=FG, denied=403),
    "GET privacy.quarters": Rule(allowed=FG, denied=403),
    # --- the bekendheidscheck: the ZVH roles of engine.privacy.bekendheid.ASKING_ROLES -----------------------------
    "GET bekendheid.index": Rule(allowed=ZVH_STAFF - {"casusregisseur"}, denied=403),
    "POST bekendheid.check": Rule(
        allowed=ZVH_STAFF - {"casusregisseur"}, denied=403, body={"bsn": "111222333", "reden": "Test"}
    ),
    # --- management reports (managers only) ----------------------------------------------------------------------
    "GET reports.index": Rule(allowed=REPORTS, denied=403),
    "GET reports.counts": Rule(allowed=REPORTS, denied=403),
    "GET reports.activities": Rule(allowed=REPORTS, denied=403),
    "GET reports.prognoses": Rule(allowed=REPORTS, denied=403),
    "POST reports.save_prognoses": Rule(allowed=REPORTS, denied=403, body={"triage": "12"}),
    "GET reports.lead_times": Rule(allowed=REPORTS, denied=403),
    "GET reports.figures": Rule(allowed=REPORTS, denied=403),
    "GET report_exports.table_csv": Rule(allowed=REPORTS, denied=403),
    "GET report_exports.table_xlsx": Rule(allowed=REPORTS, denied=403),
    "GET report_exports.figures_csv": Rule(allowed=REPORTS, denied=403),
    "GET report_exports.figures_json": Rule(allowed=REPORTS, denied=403),
    # --- retention and destruction: managers and the FG, four eyes on a list (a proposed one in the world) ------
    "GET retention.index": Rule(allowed=RETENTION, denied=403),
    "POST retention.extend": Rule(allowed=RETENTION, denied=403),
    "GET retention.lists": Rule(allowed=RETENTION, denied=403),
    "POST retention.propose": Rule(allowed=frozenset({"manager"}), denied=403),
    "GET retention.show": Rule(allowed=RETENTION, denied=403),
    "POST retention.review": Rule(allowed=FG, denied=403),
    "POST retention.execute": Rule(allowed=RETENTION, denied=403, note="the list is not approved: 409 past the check"),
    # --- inzageverzoek: the contactpunt's package and letters (the FG only) ------------------------------------
    "GET inzage.package": Rule(targets=INZAGE, denied=403),
    "GET inzage.package_as_pdf": Rule(targets=INZAGE, denied=403, check_allowed=False, note=PDF),
    "GET inzage.package_as_zip": Rule(targets=INZAGE, denied=403, check_allowed=False, note=PDF),
    "GET inzage.letter": Rule(targets=INZAGE, denied=403, check_allowed=False, note=PDF),
    "POST inzage.search_result": Rule(targets=INZAGE, denied=403),
    "POST inzage.redaction": Rule(targets=INZAGE, denied=403),
    "POST inzage.erase": Rule(targets=INZAGE, denied=403, note="no granted decision yet: 409 past the check"),
    # --- the modeller (process owners only; everyone else: 404) ------------------------------------------------
    "GET modeller.index": owner_only(),
    "POST modeller.import_file": owner_only(),
    "GET modeller.metadata": owner_only(),
    "GET modeller.process": owner_only(),
    "POST modeller.four_eyes": owner_only(),
    "GET modeller.modeller": owner_only(),
    "GET modeller.version_xml": owner_only(),
    "GET modeller.version_comparison": owner_only(),
    "POST modeller.validate": owner_only(body={"__json__": {"xml": "<x/>"}}),
    "POST modeller.save": owner_only(body={"__json__": {}}),
    "GET modeller.migration": owner_only(),
    "POST modeller.migrate": owner_only(),
    "GET modeller.draft_xml": owner_only(),
    "GET modeller.comparison": owner_only(),
    "GET modeller.comparison_json": owner_only(),
    "GET modeller.draft_impact": owner_only(),
    "GET modeller.publish_page": owner_only(),
    "POST modeller.publish": owner_only(),
    "POST modeller.approve": owner_only(),
    "POST modeller.reject": owner_only(),
    "POST modeller.discard": owner_only(),
    "GET modeller.form_editor": owner_only(),
    "POST modeller.save_form": owner_only(),
    "POST modeller.form_preview": owner_only(),
    # --- the JSON API (bearer tokens) --------------------------------------------------------------------------
    "GET api.openapi": public(),
    # --- operations: liveness, readiness, metrics (loopback and the scrape networks only; tests/web/test_ops.py) --
    "GET ops.healthz": public(),
    "GET ops.readyz": public(),
    "GET ops.prometheus": public(note="the test client connects from loopback; other peers get 404 (test_ops.py)"),
    "GET api.processes": api(signed_in()),
    "GET api.tasks": api(signed_in()),
    "POST api.start_instance": api(Rule(allowed=STARTERS, denied=403)),
    "GET api.task": api(task()),
    "POST api.claim": api(task(forbidden=TEAM_FORBIDDEN)),
    "POST api.complete": api(task(forbidden=TEAM_FORBIDDEN)),
    "GET api.instance": api(case()),
    # --- deadlines (Termijn verlengen; the world's tasks have none: the page says so, a POST is refused as input) -
    "GET deadlines.extend": Rule(targets=DEADLINE_EXTENDERS, forbidden=DEADLINE_FORBIDDEN),
    "POST deadlines.store": Rule(targets=DEADLINE_EXTENDERS, forbidden=DEADLINE_FORBIDDEN, body={"reden": "Ziek"}),
    # --- opschorten (engine.suspension): the world's melding cases have no legal deadline (their readers: 403) --
    "GET deadlines.suspension": Rule(targets=PAUSERS, forbidden=PAUSE_FORBIDDEN),
    "POST deadlines.suspend": Rule(targets=PAUSERS, forbidden=PAUSE_FORBIDDEN, body={"reden": "Wacht op ID"}),
    "POST deadlines.resume": Rule(targets=PAUSERS, forbidden=PAUSE_FORBIDDEN, body={"reden": "ID ontvangen"}),
    # --- overleg (issue 14), H2: overview, planning, besluitenlijst, action points ------------------------------
    # The world's triagetafel (authz_world.build_overleg): chair Tess (triagetafel), member Sven (screener, invited
    # for its one case, owner of its action point). Who is no member and may not plan the type: 404.
    **{
        "GET overleg.index": signed_in(),
        "POST overleg.plan": Rule(
            allowed=OVERLEG_CHAIR,
            denied=403,
            body={"type_key": "triagetafel"},
            note="only the triagetafel's chair (or a secretariaat) plans one; a chair of another type: 403 too",
        ),
        "GET overleg.decision_list": Rule(allowed=OVERLEG_MEMBERS),
        "GET overleg.decision_list_pdf": Rule(allowed=OVERLEG_MEMBERS, check_allowed=False, note=PDF),
        "GET overleg.action_points": signed_in(),
        "POST overleg.complete_action_point": Rule(
            allowed=OVERLEG_MEMBERS, body={"toelichting": "Gedaan"}, note="its owner, or the meeting's chair"
        ),
    },
    # --- overleg (issue 14), H3: Soorten overleg (beheerders only, 403 for the others) and the API ---------------
    **{
        "GET overleg.types": Rule(allowed=frozenset({"beheerder"}), denied=403),
        "GET overleg.new_type": Rule(allowed=frozenset({"beheerder"}), denied=403),
        "POST overleg.new_type": Rule(
            allowed=frozenset({"beheerder"}), denied=403, note="posted empty: refused as input (422)"
        ),
        "GET overleg.edit_type": Rule(allowed=frozenset({"beheerder"}), denied=403),
        "POST overleg.edit_type": Rule(
            allowed=frozenset({"beheerder"}), denied=403, note="posted empty: refused as input (422)"
        ),
        "GET api.overleg_meetings": api(signed_in()),
        "GET api.overleg_agenda": api(Rule(allowed=OVERLEG_MEMBERS)),
    },
    # --- overleg (issue 14), H1: the meeting view (web/overleg/meeting.py) ------------------------------------------
    # Members see the meeting (the chair Tess, the invited screener Sven); only its chair runs it: Sven knows the
    # meeting, so he gets 403 for the chair's actions; everyone else 404.
    **{
        "GET overleg.meeting": Rule(allowed=OVERLEG_MEMBERS),
        "POST overleg.save_item": Rule(
            allowed=OVERLEG_CHAIR, forbidden={None: frozenset({"screener"})}, body={"__json__": {"version": 1}}
        ),
        "POST overleg.record_outcome": Rule(
            allowed=OVERLEG_CHAIR,
            forbidden={None: frozenset({"screener"})},
            note="the world's case waits at no step of the triagetafel: 409 past the check",
        ),
        "POST overleg.invite": Rule(
            allowed=OVERLEG_CHAIR, forbidden={None: frozenset({"screener"})}, body={"user": "sanne"}
        ),
        "POST overleg.uninvite": Rule(
            allowed=OVERLEG_CHAIR, forbidden={None: frozenset({"screener"})}, body={"user": "sanne"}
        ),
        "POST overleg.add_action_point": Rule(
            allowed=OVERLEG_CHAIR, forbidden={None: frozenset({"screener"})}, note="posted empty: refused as input"
        ),
        "POST overleg.add_case": Rule(
            allowed=OVERLEG_CHAIR, forbidden={None: frozenset({"screener"})}, note="posted empty: refused as input"
        ),
        "POST overleg.set_status": Rule(
            allowed=OVERLEG_CHAIR, forbidden={None: frozenset({"screener"})}, body={"status": "gehouden"}
        ),
        "POST overleg.send_invitations": Rule(allowed=OVERLEG_CHAIR, forbidden={None: frozenset({"screener"})}),
        "POST overleg.update_agenda": Rule(allowed=OVERLEG_CHAIR, forbidden={None: frozenset({"screener"})}),
    },
}
