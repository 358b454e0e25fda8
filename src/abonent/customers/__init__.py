"""Personal accounts, premises, residents, equipment, contracts, benefits, user↔account links."""
