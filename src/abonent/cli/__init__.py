"""The `abonent` command line: seed, outbox and every Django management command."""
