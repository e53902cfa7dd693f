"""HTTP blueprints of the central auth API."""
