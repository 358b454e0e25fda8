"""The numbers of appeals: limits of what is sent and the default terms. Terms are data an
administrator changes per supplier (``DeadlineRule``); these are used where there is none."""

from __future__ import annotations

from decimal import Decimal

from abonent.appeals.enums import Category, DocumentKind, Status

#: Files one message (or the appeal itself) may carry, and the size of each.
FILES_PER_MESSAGE = 10
FILE_SIZE_LIMIT = 10 * 1024 * 1024
#: Files one case may gather over its whole thread.
FILES_PER_APPEAL = 50
#: The longest text of one message.
TEXT_LIMIT = 5000
#: Up to this maximum hourly consumption an application is the simplified case: no
#: calculation of the maximum hourly consumption is needed.
SIMPLIFIED_MAX_HOURLY_M3 = Decimal("7")
#: The largest maximum hourly consumption a household application may state (m³/h).
HOURLY_LIMIT_M3 = Decimal("500")

#: Default terms in working days of the supplier's step that starts in a status, by category.
DEFAULT_TERMS: dict[tuple[str, str], int] = {
    (Category.CHARGE, Status.NEW): 10,
    (Category.READINGS, Status.NEW): 3,
    (Category.PAYMENT, Status.NEW): 5,
    (Category.METER, Status.NEW): 10,
    (Category.EQUIPMENT, Status.NEW): 10,
    (Category.COMPLAINT, Status.NEW): 10,
    (Category.OTHER, Status.NEW): 10,
    (Category.FEEDBACK, Status.NEW): 10,
    # A connection application: its documents checked, then the contract sent.
    (Category.CONNECTION, Status.NEW): 3,
    (Category.CONNECTION, Status.CHECKED): 10,
}

#: The documents an application for connection cannot go without.
CONNECTION_DOCUMENTS_REQUIRED = (
    DocumentKind.LAND_TITLE,
    DocumentKind.HOUSE_TITLE,
    DocumentKind.PASSPORT,
    DocumentKind.SITE_PLAN,
)

#: Guests' messages from the contacts page: per address, per hour and per day.
FEEDBACK_PER_HOUR = 3
FEEDBACK_PER_DAY = 10
#: A form filled faster than this is a robot's; one older than this is stale.
FEEDBACK_MIN_SECONDS = 3
FEEDBACK_MAX_AGE_SECONDS = 24 * 3600
