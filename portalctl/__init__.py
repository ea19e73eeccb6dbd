"""portalctl: a command-line client of the portal's REST API (HTTP only: it imports nothing of the portal)."""
