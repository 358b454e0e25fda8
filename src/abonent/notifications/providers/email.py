"""E-mail through Django's configured backend: SMTP when EMAIL_HOST is set, the outbox
otherwise (and locmem under the test runner).

SMTP answers are sorted by what a retry can change. A 5xx refusal of the recipient or of the
message itself is final: the same message to the same address is refused again. Everything
else is temporary: no connection, a timeout, a dropped line, any 4xx ("try later"), and the
refusals that are about our own configuration (login, sender address, TLS), which an
operator can fix while the delivery is still being retried.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME

from abonent.notifications.enums import Provider
from abonent.notifications.providers.base import Attachment, PermanentFailure, TemporaryFailure

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
OUTBOX_BACKEND = "abonent.notifications.providers.outbox.EmailBackend"


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _refusal(code: int, what: str, reply: bytes | str) -> TemporaryFailure | PermanentFailure:
    text = f"SMTP-сервер отклонил {what}: {code} {_text(reply)}".strip()
    return PermanentFailure(text) if 500 <= code < 600 else TemporaryFailure(text)


class DjangoEmailSender:
    """Sends one plain-text message, with a file attached or not, through ``settings.EMAIL_BACKEND``."""

    def __init__(self, *, backend: str | None = None) -> None:
        self.backend = backend or settings.EMAIL_BACKEND
        self.name = {SMTP_BACKEND: Provider.SMTP.value, OUTBOX_BACKEND: Provider.OUTBOX.value}.get(
            self.backend, Provider.BACKEND.value
        )

    def send(
        self,
        *,
        recipient: str,
        subject: str,
        body: str,
        attachment: Attachment | None = None,
        data: dict[str, str] | None = None,
    ) -> str:
        message_id = make_msgid(domain=DNS_NAME)
        connection = get_connection(self.backend, fail_silently=False)
        message = EmailMessage(
            subject, body, None, [recipient], connection=connection, headers={"Message-ID": message_id}
        )
        if attachment is not None:
            message.attach(attachment.filename, attachment.content, attachment.mimetype)
        try:
            sent = message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _refusal(code, f"получателя {recipient}", reply) from None
        except smtplib.SMTPDataError as exc:
            raise _refusal(exc.smtp_code, "письмо", exc.smtp_error) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(
                f"SMTP-сервер не принял логин или пароль (EMAIL_HOST_USER, EMAIL_HOST_PASSWORD): "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise TemporaryFailure(
                f"SMTP-сервер отклонил адрес отправителя {exc.sender} (DEFAULT_FROM_EMAIL): "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise TemporaryFailure(f"SMTP-сервер ответил ошибкой: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except smtplib.SMTPServerDisconnected as exc:
            raise TemporaryFailure(f"SMTP-сервер разорвал соединение: {exc}") from None
        except TimeoutError:
            raise TemporaryFailure(
                f"SMTP-сервер {settings.EMAIL_HOST}:{settings.EMAIL_PORT} не ответил за {settings.EMAIL_TIMEOUT} с"
            ) from None
        except OSError as exc:  # refused connection, unknown host, TLS failures, other smtplib errors
            raise TemporaryFailure(
                f"нет связи с SMTP-сервером {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: {exc}"
            ) from None
        except ValueError as exc:  # an address Django cannot put in a header
            raise PermanentFailure(f"адрес {recipient!r} нельзя использовать: {exc}") from None
        if sent != 1:
            raise TemporaryFailure("почтовый бэкенд не отправил письмо и не сообщил об ошибке")
        return message_id
