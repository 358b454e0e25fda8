"""The operators' back office: Django admin registrations, roles and views for every domain."""
