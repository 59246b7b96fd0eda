"""The reliability and security suite: seeded fault trials on both sandboxes, crashes, deadlines, fuzzed input
and secrets. ``python -m tests.reliability --trials 100`` runs the long fault campaign (see docs/reliability.md)."""
