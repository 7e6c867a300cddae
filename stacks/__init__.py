"""Stacks compose tiers: the state bootstrap stack and one stack per stage file.

``build_app()`` is the whole cdktf app; ``main.py`` only calls it. The tiers come from
``modules`` (imported first: it installs the fast provider loader)."""

import modules  # noqa: F401  (installs the fast AWS provider loader before any provider import)
