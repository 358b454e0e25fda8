"""Support appeals, connection applications, deletion requests, workflow, SLA."""
