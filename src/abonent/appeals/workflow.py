"""The workflow as a table: for each kind of case, each action, who may take it and from
which status to which. Anything not in the table is refused (:class:`TransitionNotAllowed`),
never silently ignored.

A target of :data:`STAY` keeps the status (a message that does not move the case); one of
:data:`RESUME` returns a case from «ждёт ответа заявителя» to where it was before.
"""

from __future__ import annotations

from dataclasses import dataclass

from abonent.appeals.enums import Action, AppealKind, Role, Status

STAY = "stay"
RESUME = "resume"

S = Status


@dataclass(frozen=True)
class Transition:
    action: Action
    role: Role
    #: status now → status after (or STAY / RESUME)
    moves: dict[Status, str]
    #: The action must come with a text (a question, an answer, a reason).
    needs_text: bool = False


def _t(action: Action, role: Role, moves: dict[Status, str], *, needs_text: bool = False) -> Transition:
    return Transition(action, role, moves, needs_text)


_OPEN_APPEAL = (S.NEW, S.IN_PROGRESS, S.WAITING)

APPEAL = {
    t.action: t
    for t in [
        _t(Action.TAKE, Role.OPERATOR, {S.NEW: S.IN_PROGRESS}),
        _t(Action.ASK, Role.OPERATOR, {S.NEW: S.WAITING, S.IN_PROGRESS: S.WAITING}, needs_text=True),
        _t(Action.ANSWER, Role.OPERATOR, dict.fromkeys(_OPEN_APPEAL, S.ANSWERED), needs_text=True),
        _t(Action.CLOSE, Role.OPERATOR, {S.ANSWERED: S.CLOSED}),
        _t(
            Action.SUBSCRIBER_REPLY,
            Role.SUBSCRIBER,
            # More to say while it is worked; the answer to a question; not content with
            # the answer — the case goes back to work.
            {S.NEW: STAY, S.IN_PROGRESS: STAY, S.WAITING: S.IN_PROGRESS, S.ANSWERED: S.IN_PROGRESS},
            needs_text=True,
        ),
        _t(Action.RATE, Role.SUBSCRIBER, {S.ANSWERED: S.CLOSED}),
        _t(Action.WITHDRAW, Role.SUBSCRIBER, dict.fromkeys(_OPEN_APPEAL, S.WITHDRAWN)),
    ]
}

_OPEN_CONNECTION = (S.NEW, S.WAITING, S.CHECKED, S.CONTRACT_SENT, S.WORKS)

CONNECTION = {
    t.action: t
    for t in [
        _t(Action.TAKE, Role.OPERATOR, {S.NEW: STAY, S.CHECKED: STAY}),
        _t(Action.ASK, Role.OPERATOR, {S.NEW: S.WAITING, S.CHECKED: S.WAITING}, needs_text=True),
        _t(Action.CHECK, Role.OPERATOR, {S.NEW: S.CHECKED}),
        _t(Action.SEND_CONTRACT, Role.OPERATOR, {S.CHECKED: S.CONTRACT_SENT}),
        _t(Action.START_WORKS, Role.OPERATOR, {S.CONTRACT_SENT: S.WORKS}),
        _t(Action.START_GAS, Role.OPERATOR, {S.WORKS: S.GAS_STARTED}),
        _t(Action.REFUSE, Role.OPERATOR, dict.fromkeys((S.NEW, S.WAITING, S.CHECKED), S.REFUSED), needs_text=True),
        _t(Action.ANSWER, Role.OPERATOR, dict.fromkeys(_OPEN_CONNECTION, STAY), needs_text=True),
        _t(
            Action.SUBSCRIBER_REPLY,
            Role.SUBSCRIBER,
            {S.NEW: STAY, S.WAITING: RESUME, S.CHECKED: STAY, S.CONTRACT_SENT: STAY, S.WORKS: STAY},
            needs_text=True,
        ),
        _t(
            Action.WITHDRAW,
            Role.SUBSCRIBER,
            dict.fromkeys((S.NEW, S.WAITING, S.CHECKED, S.CONTRACT_SENT), S.WITHDRAWN),
        ),
    ]
}

FEEDBACK = {
    t.action: t
    for t in [
        _t(Action.TAKE, Role.OPERATOR, {S.NEW: S.IN_PROGRESS}),
        # The answer goes to the address the guest left; there is no thread to continue.
        _t(Action.ANSWER, Role.OPERATOR, {S.NEW: S.CLOSED, S.IN_PROGRESS: S.CLOSED}, needs_text=True),
        # Closed without an answer (spam, a duplicate): the reason stays for the record.
        _t(Action.CLOSE, Role.OPERATOR, {S.NEW: S.CLOSED, S.IN_PROGRESS: S.CLOSED}, needs_text=True),
    ]
}

TABLE: dict[str, dict[Action, Transition]] = {
    AppealKind.APPEAL: APPEAL,
    AppealKind.CONNECTION: CONNECTION,
    AppealKind.FEEDBACK: FEEDBACK,
}

#: The stages of a connection application in their order, as the applicant follows them.
CONNECTION_STAGES = (S.NEW, S.CHECKED, S.CONTRACT_SENT, S.WORKS, S.GAS_STARTED)


def transition_get(kind: str, action: str, role: Role) -> Transition | None:
    transition = TABLE[kind].get(Action(action)) if action in Action.values else None
    if transition is None or transition.role != role:
        return None
    return transition


def target_status(transition: Transition, *, status: str, before_waiting: str) -> Status | None:
    """The status after ``transition`` from ``status``; None when it cannot be taken from it."""
    target = transition.moves.get(Status(status))
    if target is None:
        return None
    if target == STAY:
        return Status(status)
    if target == RESUME:
        return Status(before_waiting or Status.NEW)
    return Status(target)


def actions_available(kind: str, status: str, role: Role) -> list[Action]:
    """The actions ``role`` can take on a case of ``kind`` in ``status``, in the table's order."""
    return [t.action for t in TABLE[kind].values() if t.role == role and Status(status) in t.moves]
