"""The peers crkg is measured against: rdflib in memory behind a naive Flask endpoint,
Virtuoso on loopback, and pyoxigraph called in-process (the floor)."""
