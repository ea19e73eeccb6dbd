"""Scenario files: tenants as they stand, loaded whole or not at all.

The loader lives in the top app because a scenario writes every app's models.
"""

from planchange.scenarios.loader import LoadReport, ScenarioError, scenario_load, scenario_load_file

__all__ = ["LoadReport", "ScenarioError", "scenario_load", "scenario_load_file"]
