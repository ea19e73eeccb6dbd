"""Scenario files: tenants as they stand, loaded whole or not at all.

The loader validates a file and has each app write its own rows.
"""

from simulation.scenarios.loader import LoadReport, ScenarioError, scenario_load, scenario_load_file

__all__ = ["LoadReport", "ScenarioError", "scenario_load", "scenario_load_file"]
