"""Processing provider and algorithms: another caller of the pure core."""
