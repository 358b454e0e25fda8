"""The server-rendered portal for subscribers."""
