"""Historical control database: control animals of past studies and their ranges.

Storage is SQLAlchemy Core on a SQLite file by default or a PostgreSQL server
(:mod:`neurotox.hcd.db`, schema and migrations in :mod:`neurotox.hcd.schema`);
studies are added from SEND folders (:mod:`neurotox.hcd.send`) or finished
neurotox runs (:mod:`neurotox.hcd.run`) through :mod:`neurotox.hcd.store`, in one
transaction each; :mod:`neurotox.hcd.ranges` summarises them per endpoint × sex
× timepoint within strata. SQLAlchemy is imported by those modules only, so
importing this package is cheap.
"""
