"""The wizard's answers: every field a supervisor fills in, with its longest value, declared once.

Why once: the state shows these answers, the draft store keeps them and the submission reads them.
When each kept its own list they could drift apart (a field the form had but the draft did not was
lost on reload). Everything here is text as the browser sent it, because any client can send
anything: ``bounded`` and ``from_mapping`` keep known names and strings only, cut to their limits,
and ``accepts`` says whether a value is one of a choice's options.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from immtrax_portal.domain.enums import AccessLevel, DeletionReason, RequestType
from immtrax_portal.domain.record_ids import record_id

YES_NO = frozenset({"yes", "no"})


def _answer(limit: int, step: int, kind: str = "choice", options: frozenset[str] = frozenset()) -> Any:
    """One answer: its longest value, the step that asks it, how it is given (``text`` typed in,
    ``choice`` among ``options``, ``id`` of a record, ``question`` answered yes or no)."""
    return field(default="", metadata={"limit": limit, "step": step, "kind": kind, "options": options})


def _values(enum_cls) -> frozenset[str]:
    return frozenset(member.value for member in enum_cls)


@dataclass(frozen=True)
class Answers:
    """What the supervisor has answered so far, as text."""

    organization_id: str = _answer(12, 1, "id")
    request_type: str = _answer(32, 1, options=_values(RequestType))
    first_name: str = _answer(100, 2, "text")
    last_name: str = _answer(100, 2, "text")
    email: str = _answer(254, 2, "text")
    phone: str = _answer(32, 2, "text")
    job_title: str = _answer(120, 2, "text")
    start_date: str = _answer(10, 2, "text")
    subject_person_id: str = _answer(12, 2, "id")
    access_level: str = _answer(32, 3, options=_values(AccessLevel))
    deletion_reason: str = _answer(32, 3, options=_values(DeletionReason))
    last_day: str = _answer(10, 3, "text")
    # Time-limited access (issue 16): the last day of a New Access or Change Employer, optional.
    access_ends_on: str = _answer(10, 3, "text")
    note: str = _answer(2000, 3, "text")
    q_inventory: str = _answer(3, 3, "question", YES_NO)
    q_records: str = _answer(3, 3, "question", YES_NO)
    q_lookup: str = _answer(3, 3, "question", YES_NO)
    # "Same level as a colleague": a current user of the organization whose level is suggested
    # (the three questions still decide; see ``steps.colleague_problem``).
    colleague_person_id: str = _answer(12, 3, "id")

    @classmethod
    def from_mapping(cls, data: object) -> Answers:
        """The answers found in ``data`` (a saved draft, a form): known names, strings, bounded."""
        if not isinstance(data, dict):
            return cls()
        return cls(**{name: bounded(name, value) for name in NAMES
                      if isinstance(value := data.get(name), str)})

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def with_answer(self, name: str, value: str) -> Answers:
        return replace(self, **{name: bounded(name, value)})

    def with_typed(self, form: object) -> Answers:
        """These answers with whatever typed-in fields ``form`` holds as text (others ignored)."""
        if not isinstance(form, dict):
            return self
        typed = {name: bounded(name, form[name]) for name in TYPED if isinstance(form.get(name), str)}
        return replace(self, **typed)

    @property
    def kind(self) -> RequestType | None:
        return RequestType(self.request_type) if self.request_type in _values(RequestType) else None

    def request_draft(self) -> RequestDraft | None:
        """The request these answers make, holding only what its type asks for; None until the
        organization and the type are chosen."""
        kind, organization_id = self.kind, record_id(self.organization_id)
        if kind is None or not organization_id:
            return None
        from_roster, deletion = kind.picks_from_roster, kind == RequestType.ACCESS_DELETION
        return RequestDraft(
            organization_id=organization_id, request_type=kind,
            **{name: "" if from_roster else getattr(self, name) for name in NEW_PERSON},
            access_level="" if deletion else self.access_level,
            subject_person_id=(record_id(self.subject_person_id) or None) if from_roster else None,
            deletion_reason=self.deletion_reason if deletion else "",
            last_day=self.last_day if deletion else "",
            access_ends_on="" if from_roster else self.access_ends_on,
            note=self.note,
        )


@dataclass(frozen=True)
class RequestDraft:
    """What a supervisor asks for, typed: the input of a submission (``services.requests``).

    Made from ``Answers.request_draft`` by the wizard; the demo data and tests build it directly.
    """

    organization_id: int
    request_type: RequestType
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    job_title: str = ""
    start_date: str = ""
    access_level: str = ""
    subject_person_id: int | None = None
    deletion_reason: str = ""
    last_day: str = ""
    note: str = ""
    access_ends_on: str = ""


_FIELDS = {f.name: f.metadata for f in fields(Answers)}
NAMES: tuple[str, ...] = tuple(_FIELDS)
LIMITS: dict[str, int] = {name: meta["limit"] for name, meta in _FIELDS.items()}
TYPED: tuple[str, ...] = tuple(name for name, meta in _FIELDS.items() if meta["kind"] == "text")
QUESTIONS: tuple[str, ...] = tuple(name for name, meta in _FIELDS.items() if meta["kind"] == "question")
# The person of a New Access or Change Employer, as typed at step 2.
NEW_PERSON: tuple[str, ...] = tuple(name for name in TYPED if _FIELDS[name]["step"] == 2)


def step_of_field(name: str) -> int:
    """The step that asks ``name`` (0 for no answer of that name)."""
    return _FIELDS[name]["step"] if name in _FIELDS else 0


def bounded(name: str, value: str) -> str:
    """``value`` cut to the longest value the answer ``name`` may have."""
    return value[: LIMITS[name]]


def accepts(name: str, value: object) -> bool:
    """Whether ``value`` is one of the options of the choice or question ``name``."""
    meta = _FIELDS.get(name)
    return meta is not None and bool(meta["options"]) and isinstance(value, str) and value in meta["options"]


def resumed(saved: dict[str, str], organization_ids: list[str]) -> Answers:
    """A saved draft's answers for a supervisor of ``organization_ids`` today: an organization they
    no longer supervise is dropped (their only one is chosen for them), an unknown type too."""
    answers = Answers.from_mapping(saved)
    only = organization_ids[0] if len(organization_ids) == 1 else ""
    return replace(answers, organization_id=answers.organization_id if answers.organization_id in
                   organization_ids else only, request_type=answers.request_type if answers.kind else "")
