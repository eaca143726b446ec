"""Benchmarks: each module runs its subject side by side with a baseline in the same run."""
