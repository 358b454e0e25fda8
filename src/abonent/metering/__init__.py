"""Meters, readings, the reading window and validation."""
