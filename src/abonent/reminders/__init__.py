"""Who is reminded of what and when."""
