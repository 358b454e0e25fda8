"""JSON API v1 for the mobile apps (django-ninja): OpenAPI, auth, error mapping."""
