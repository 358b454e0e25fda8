"""Users, registration, codes, login, password reset, consents, sessions, OIDC."""
