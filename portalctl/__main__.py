from portalctl.main import run

run()
