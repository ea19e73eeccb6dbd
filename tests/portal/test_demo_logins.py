"""make run prints the demo's logins with the URL it really serves and the API tokens the demo fixes."""

from django.core.management import call_command


def test_demo_logins_name_the_port_served_and_the_demo_tokens(capsys, monkeypatch):
    monkeypatch.setenv("PORTAL_PORT", "8123")
    call_command("demo_logins", "scenarios/demo.json")
    out = capsys.readouterr().out
    assert "Demo logins (http://127.0.0.1:8123/login/):" in out
    assert "8000" not in out
    assert "portalctl login --url http://127.0.0.1:8123 --token" in out
    assert "admin@contoso.com" in out and "contoso-global-admin-demo-token" in out
    assert "support-staff-demo-token" in out


def test_demo_logins_default_to_port_8000(capsys, monkeypatch):
    monkeypatch.delenv("PORTAL_PORT", raising=False)
    call_command("demo_logins", "scenarios/demo.json")
    assert "Demo logins (http://127.0.0.1:8000/login/):" in capsys.readouterr().out
