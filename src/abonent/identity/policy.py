"""The numbers of identity: codes, sessions, tokens, rate limits (OWASP ASVS 5.0 L2)."""

from __future__ import annotations

import datetime as dt

from abonent.core.ratelimit import Limit

CODE_LENGTH = 6
CODE_TTL = dt.timedelta(minutes=10)
CODE_MAX_WRONG = 5
CODE_RESEND_MIN_INTERVAL = dt.timedelta(minutes=1)
CODE_RESEND_PER_HOUR = 5

SESSION_ABSOLUTE = dt.timedelta(hours=12)
SESSION_IDLE = dt.timedelta(minutes=30)  # unless "remember me"
SESSION_TOUCH_EVERY = dt.timedelta(seconds=60)  # how often last activity is written

ACCESS_TOKEN_TTL = dt.timedelta(minutes=15)
REFRESH_TOKEN_TTL = dt.timedelta(days=30)

# The e-mailed recovery link lives 1 hour: Django's PASSWORD_RESET_TIMEOUT (settings), read by its token generator.
DELETION_DEADLINE_DAYS = 30

# Login: counted before the password is checked. Each is a cool-off that ends with its
# window, never a lockout: a stranger can slow logins to someone's profile for at most
# 15 minutes at a time, and cannot lock out the owner from their own address at all
# beyond LOGIN_PER_ACCOUNT.
LOGIN_PER_ACCOUNT_AND_IP = Limit("login:acct-ip", limit=5, window=15 * 60)
LOGIN_PER_ACCOUNT = Limit("login:acct", limit=20, window=15 * 60)
LOGIN_PER_IP = Limit("login:ip", limit=50, window=15 * 60)
# Codes entered: besides the 5 wrong tries of each code, per IP.
CODE_CHECK_PER_IP = Limit("code-check:ip", limit=30, window=15 * 60)
# Codes and links requested (registration, recovery, changes): per IP, besides per recipient.
CODE_SEND_PER_IP = Limit("code-send:ip", limit=20, window=60 * 60)
