from django.apps import AppConfig


class GraphConfig(AppConfig):
    """Microsoft Graph's licensing dialect under ``/graph/v1.0/`` (docs/graph.md)."""

    name = "graph"
    verbose_name = "Microsoft Graph"

    def ready(self):
        from graph.errors import graph_error_for
        from portal.api.errors import ERROR_DIALECTS

        ERROR_DIALECTS["/graph/"] = graph_error_for
