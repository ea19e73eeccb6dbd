from django.apps import AppConfig


class SimulationConfig(AppConfig):
    """The simulation: the clock's moves and the day loop, the sweep, scenario files."""

    name = "simulation"

    def ready(self):
        from portal.texts import register_events
        from simulation import verbs as simulation_verbs
        from simulation.texts import EVENTS

        register_events(EVENTS, verbs=simulation_verbs)
