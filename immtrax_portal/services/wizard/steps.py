"""The wizard's steps: what each asks, what is wrong with it, and where the supervisor may go next.

1 organization and type, 2 the person, 3 the level (or the reason and last day), 4 review,
5 submitted. A step is reachable only when every step before it holds, which is also how a saved
draft is resumed: at the step it was left on, or at the first step that no longer holds (the
registry may have changed overnight). The same rules run again when the request is submitted
(``services.requests``), which is the authority; here they let the wizard point at the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from immtrax_portal.domain import validation as v
from immtrax_portal.domain.enums import AccessLevel, RequestType
from immtrax_portal.program_time import program_today
from immtrax_portal.services.wizard.answers import NAMES, NEW_PERSON, Answers, RequestDraft, step_of_field

REVIEW_STEP = 4
LAST_STEP = 5
REGISTRY = "registry"  # the step-2 "field" under which the registry's findings are shown
CHOOSE_TYPE = "Choose what kind of request this is."


def recommended_level(inventory: str, records: str, lookup: str) -> str:
    """The least access level that fits the answers, or "" until one answer says yes."""
    if inventory == "yes":
        return AccessLevel.VACCINE_MANAGEMENT.value
    if records == "yes":
        return AccessLevel.RECORD_MAINTENANCE.value
    if lookup == "yes":
        return AccessLevel.READ_ONLY_CONSENT.value
    return ""


def step_title(step: int, request_type: str) -> str:
    from_roster = request_type in (RequestType.PERMISSIONS_CHANGE.value, RequestType.ACCESS_DELETION.value)
    third = "Reason and last day" if request_type == RequestType.ACCESS_DELETION.value else "Access level"
    return {1: "Organization and request type", 2: "Choose the user" if from_roster else "The person",
            3: third, 4: "Check your request", 5: "Request submitted"}.get(step, "")


def same_level_problem(request_type: RequestType, wanted: str, current: str) -> str | None:
    """A Permissions Change must change the level: asking for the one the person has is wrong."""
    if request_type != RequestType.PERMISSIONS_CHANGE or not wanted or wanted != current:
        return None
    return f"They already have {AccessLevel(current).label}. Choose another level."


def draft_problems(draft: RequestDraft, today: date, current_level: str = "") -> dict[str, str]:
    """Field -> message for everything wrong with the draft's own fields (no registry look-ups).

    ``current_level`` is the level the chosen roster user holds now, when it is known.
    """
    problems: dict[str, str] = {}
    if draft.request_type.picks_from_roster:
        if not draft.subject_person_id:
            problems["subject_person_id"] = "Choose the person from your organization's users."
        if draft.request_type == RequestType.PERMISSIONS_CHANGE:
            level = v.access_level_problem(draft.access_level) or same_level_problem(
                draft.request_type, draft.access_level, current_level)
            note = v.note_problem(draft.note, required=True, what="reason for the change")
            found = {"access_level": level, "note": note}
        else:
            found = {"deletion_reason": v.deletion_reason_problem(draft.deletion_reason),
                     "last_day": v.last_day_problem(draft.last_day, today),
                     "note": v.note_problem(draft.note)}
    else:
        problems = v.new_person_problems({name: getattr(draft, name) for name in NEW_PERSON}, today)
        found = {"access_level": v.access_level_problem(draft.access_level),
                 "access_ends_on": v.access_ends_on_problem(draft.access_ends_on, draft.start_date, today),
                 "note": v.note_problem(draft.note)}
    return {**problems, **{name: message for name, message in found.items() if message}}


def step_problems(answers: Answers, step: int, current_level: str = "",
                  today: date | None = None) -> dict[str, str]:
    """What is wrong with one step's own answers (steps 1 to 3; no registry look-ups)."""
    if step == 1:
        problems = {}
        if not answers.organization_id:
            problems["organization_id"] = "Choose the organization the request is for."
        if answers.kind is None:
            problems["request_type"] = CHOOSE_TYPE
        return problems
    draft = answers.request_draft()
    if draft is None:
        return {"request_type": CHOOSE_TYPE}
    every = draft_problems(draft, today or program_today(), current_level)
    return {name: message for name, message in every.items() if step_of_field(name) == step}


def step_of_problems(names: Iterable[str]) -> int:
    """The first step that shows one of these problems (the review step when none does)."""
    steps = [2 if name == REGISTRY else step_of_field(name) for name in names]
    return min((step for step in steps if step), default=REVIEW_STEP)


def rechecked(errors: dict[str, str], answers: Answers, name: str, current_level: str = "") -> dict[str, str]:
    """``errors`` after ``name`` changed: once a field has shown an error it is re-checked as the
    supervisor corrects it; fields that showed none stay quiet until the step is continued."""
    if name not in errors:
        return errors
    kept = {field: message for field, message in errors.items() if field != name}
    step = step_of_field(name) if name in NAMES else 0
    problem = step_problems(answers, step, current_level).get(name) if step else None
    return {**kept, name: problem} if problem else kept


def reachable_step(answers: Answers, wanted: int, current_level: str,
                   registry_problems: Callable[[], dict[str, str]]) -> int:
    """``wanted`` (1 to the review step), or the first step before it that does not hold.

    ``registry_problems`` is step 2's look-up, asked only once steps 1 and 2 hold on their own.
    """
    wanted = min(max(wanted, 1), REVIEW_STEP)
    for step in range(1, wanted):
        if step_problems(answers, step, current_level) or (step == 2 and registry_problems()):
            return step
    return wanted


def step_after(answers: Answers, step: int, current_level: str, back_to_review: bool) -> int:
    """Where "Continue" leads from a step that holds: the next step, or straight back to the
    review when the supervisor came from there to change something and the rest still holds."""
    if back_to_review and step >= 2 and not any(
            step_problems(answers, later, current_level) for later in range(step + 1, REVIEW_STEP)):
        return REVIEW_STEP
    return step + 1


def colleague_note(colleague: str, colleague_level: str, recommended: str) -> str:
    """What the level step says about the colleague picked ("same level as a colleague"): their
    level is a suggestion, and the three questions decide ("" without a colleague)."""
    if not colleague or colleague_level not in {level.value for level in AccessLevel}:
        return ""
    theirs = AccessLevel(colleague_level)
    if not recommended:
        return (f"{colleague} has {theirs.label}. If the new person will do the same work, answering "
                f"the three questions below as they apply to {colleague}'s work leads to {theirs.label}. "
                "The level follows from the answers, not from the colleague.")
    fits = AccessLevel(recommended)
    if fits == theirs:
        return f"Your answers fit {colleague}'s level, {theirs.label}: the same work, the same access."
    if fits.rank < theirs.rank:
        return (f"Your answers need only {fits.label}, less than {colleague}'s {theirs.label}. Give the new "
                f"person the least access that fits their work: {fits.label}.")
    return (f"Your answers need {fits.label}, more than {colleague}'s {theirs.label}: the new person's work "
            "differs from theirs. Check the answers.")


def colleague_problem(answers: Answers, colleague_level: str) -> dict[str, str]:
    """With a colleague picked, the questions still decide: they must be answered, and the level
    chosen may not be above what they call for (never a blind copy of the colleague's)."""
    if not answers.colleague_person_id or not colleague_level:
        return {}
    recommended = recommended_level(answers.q_inventory, answers.q_records, answers.q_lookup)
    if not recommended:
        return {"access_level": "Answer the three questions: with a colleague picked, they decide the level."}
    if answers.access_level in {level.value for level in AccessLevel} and \
            AccessLevel(answers.access_level).rank > AccessLevel(recommended).rank:
        return {"access_level": f"Your answers need only {AccessLevel(recommended).label}. Choose it, or "
                                "change an answer if the person will do more."}
    return {}
