"""The emulator's own tests use the shared ``emulator`` fixture of tests/conftest.py."""
