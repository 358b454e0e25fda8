"""Senders of messages, all with the interface of :class:`~.base.Sender`.

``outbox`` keeps messages in the database (the embedded default and the fake of every
channel), ``email`` hands e-mail to Django's configured backend (SMTP), ``smsru`` speaks the
SMS.ru HTTP API.
"""
