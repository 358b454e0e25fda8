"""Demo data for ``abonent seed``: realistic, deterministic and fast to load.

- ``names``: Russian names, places, streets and equipment to draw from;
- ``suppliers``: the two demo suppliers with bank details whose control digits are computed;
- ``generator``: one personal account with its equipment, contracts, meters and readings,
  drawn from a random stream of its own, so account *i* is the same whatever the batch size;
- ``writer``: rows to the database in batches (COPY on PostgreSQL, executemany on SQLite);
- ``seeding``: the run as a whole — suppliers, staff, accounts — and its report.
"""
