"""Real servers for tests: PostgreSQL, Orthanc, the central auth API (pytest plugins)."""
