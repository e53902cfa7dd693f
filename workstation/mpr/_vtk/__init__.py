"""VTK adapters of the MPR engine (imported lazily; the only place mpr uses VTK)."""
