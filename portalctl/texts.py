"""The CLI's own words, English and Swedish (``--lang sv``).

English is the key; ``SV`` gives the Swedish. The server's words (an error's ``detail``, a
blocker's ``title`` and ``resolution``) come back in the asked language on their own, through
``Accept-Language``. tests/portalctl/test_texts.py checks that every ``_("…")`` here has its Swedish.
"""

from decimal import Decimal

from babel.numbers import format_currency

LANGUAGES = ("en", "sv")
_state = {"lang": "en"}
CURRENCY = "USD"
# As the portal's pages write money (billing.money): English names the currency by its ISO code, Swedish as
# CLDR writes it ("1 402,43 US$").
MONEY_PATTERNS = {"en": "¤¤ #,##0.00"}


def language_set(lang: str) -> None:
    _state["lang"] = lang


def language() -> str:
    return _state["lang"]


def _(text: str, **params) -> str:
    """The text in the chosen language, with ``{name}`` filled from ``params``."""
    words = SV.get(text, text) if _state["lang"] == "sv" else text
    return words.format(**params) if params else words


def money(value) -> str:
    """An amount of the API (a string with its cents) as the chosen language writes money, through Babel."""
    if value is None or value == "":
        return ""
    lang = _state["lang"]
    return format_currency(Decimal(str(value)), CURRENCY, format=MONEY_PATTERNS.get(lang), locale=lang)


def label(kind: str, value) -> str:
    """A status, step or answer word of the API (``status``, ``step``), in the chosen language."""
    if value is None:
        return ""
    english = LABELS.get(kind, {}).get(value)
    return _(english) if english else str(value)


LABELS = {
    "status": {
        "scheduled": "Scheduled", "queued": "Queued", "running": "Running", "completed": "Completed",
        "failed": "Failed", "cancelled": "Cancelled", "active": "Active", "expired": "Expired",
        "disabled": "Disabled", "deleted": "Deleted", "upcoming": "Upcoming", "unpaid": "Unpaid",
        "overdue": "Overdue", "paid": "Paid", "credit": "Credit", "refunded": "Refunded",
        "pending": "Pending", "done": "Done", "skipped": "Skipped",
    },
    "step": {
        "validate": "Validate", "provision": "Provision the new subscription", "migrate_licenses": "Move licenses",
        "bill": "Bill", "cancel_source": "Cancel the old subscription", "complete": "Complete",
    },
    "bool": {True: "yes", False: "no"},
    "frequency": {"monthly": "monthly", "annual": "annual"},
    "row": {"would_change": "would change", "refused": "refused", "started": "started", "already": "already"},
    # what happened on a move of the clock (its ``kind``), as the support console says it
    "happening": {
        "provisioned": "Provisioned", "credit_check": "Credit check", "plan_change": "Scheduled change",
        "trial_converted": "Trial converted", "trial_expired": "Trial expired", "renewal": "Renewal",
        "invoice": "Invoice", "payment": "Card payment", "invoice_payment": "Invoice paid by habit",
        "refund": "Refund", "expired": "Expired", "disabled": "Disabled", "deleted": "Deleted", "overdue": "Past due",
    },
}

SV = {
    # labels
    "Scheduled": "Schemalagd", "Queued": "I kö", "Running": "Pågår", "Completed": "Slutförd",
    "Failed": "Misslyckades", "Cancelled": "Avbruten", "Active": "Aktiv", "Expired": "Har upphört",
    "Disabled": "Inaktiverad", "Deleted": "Borttagen", "Upcoming": "Kommande", "Unpaid": "Obetald",
    "Overdue": "Förfallen", "Paid": "Betald", "Credit": "Kredit", "Refunded": "Återbetald", "Pending": "Väntar",
    "Done": "Klar", "Skipped": "Överhoppad", "Validate": "Validera",
    "Provision the new subscription": "Etablera den nya prenumerationen", "Move licenses": "Flytta licenser",
    "Bill": "Fakturera", "Cancel the old subscription": "Avbryt den gamla prenumerationen", "Complete": "Slutför",
    "yes": "ja", "no": "nej", "monthly": "månadsvis", "annual": "årsvis", "would change": "kan ändras",
    "refused": "nekad", "started": "startad", "already": "redan gjord",
    "Provisioned": "Etablerad", "Credit check": "Kreditkontroll", "Scheduled change": "Schemalagd ändring",
    "Trial converted": "Utvärderingsversion omvandlad", "Trial expired": "Utvärderingsversion har upphört",
    "Invoice": "Faktura", "Card payment": "Kortbetalning",
    "Invoice paid by habit": "Faktura betald enligt vana", "Refund": "Återbetalning", "Past due": "Förfallen",
    # errors (client.py, config.py)
    "Error": "Fel",
    "Can't reach the portal at {url}: {reason}": "Kan inte nå portalen på {url}: {reason}",
    "The portal at {url} didn't answer within {seconds} seconds.":
        "Portalen på {url} svarade inte inom {seconds} sekunder.",
    "The connection to the portal at {url} failed: {reason}":
        "Anslutningen till portalen på {url} misslyckades: {reason}",
    "The answer from {url} isn't the portal's (HTTP {status}, {content_type}). Check the URL.":
        "Svaret från {url} kommer inte från portalen (HTTP {status}, {content_type}). Kontrollera adressen.",
    "The token was refused: sign in again with portalctl login, or check --token / PORTAL_TOKEN.":
        "Token nekades: logga in igen med portalctl login, eller kontrollera --token / PORTAL_TOKEN.",
    "Try again in {seconds} seconds.": "Försök igen om {seconds} sekunder.",
    "No portal URL: run portalctl login, or give --url or PORTAL_URL.":
        "Ingen portaladress: kör portalctl login, eller ange --url eller PORTAL_URL.",
    "No token: run portalctl login, or give --token or PORTAL_TOKEN.":
        "Ingen token: kör portalctl login, eller ange --token eller PORTAL_TOKEN.",
    "The URL must start with http:// or https://: {url}": "Adressen måste börja med http:// eller https://: {url}",
    "Unknown language {lang}: use en or sv.": "Okänt språk {lang}: använd en eller sv.",
    "The configuration file {path} can't be read: {reason}": "Konfigurationsfilen {path} kan inte läsas: {reason}",
    "connection refused": "anslutningen nekades",
    "Unexpected error: {error}": "Oväntat fel: {error}",
    "Interrupted; plan change {id} goes on: follow it with portalctl changes.":
        "Avbrutet; planändring {id} fortsätter: följ den med portalctl changes.",
    "Blockers:": "Hinder:",
    "The portal at {url} refused this token: {detail} Copy it again from Settings > API tokens ({code}, HTTP 401).":
        "Portalen på {url} nekade den här token: {detail} Kopiera den igen från Inställningar > API-token "
        "({code}, HTTP 401).",
    # login
    "Portal URL": "Portalens adress",
    "API token": "API-token",
    "Signed in to {url} as {username} ({tenant}).": "Inloggad på {url} som {username} ({tenant}).",
    "support staff": "supportpersonal",
    "Saved to {path}.": "Sparad i {path}.",
    # tables
    "Subscriptions": "Prenumerationer", "ID": "ID", "Product": "Produkt", "SKU": "SKU", "Status": "Status",
    "Licenses": "Licenser", "Assigned": "Tilldelade", "Term": "Period", "Billing": "Fakturering",
    "Renewal": "Förnyelse", "Change in progress": "Ändring pågår", "Code": "Kod", "Problem": "Problem",
    "What to do": "Vad du gör", "Fix": "Åtgärd", "Supported": "Stöds", "Reasons": "Skäl",
    "From (per license and month)": "Från (per licens och månad)",
    "Can change plans automatically: {answer}": "Kan ändra plan automatiskt: {answer}",
    "Plans you can change to": "Planer du kan ändra till",
    "Description": "Beskrivning", "Amount": "Belopp", "From": "Från", "To": "Till",
    "Quote {quote} (valid until {expires}), takes effect {date}":
        "Offert {quote} (gäller till {expires}), gäller från {date}",
    "Credit: {credit}   Charge: {charge}   Total: {total}": "Kredit: {credit}   Debitering: {charge}   Summa: {total}",
    "Users affected: {count}": "Berörda användare: {count}",
    "Plan changes": "Planändringar", "Subscription": "Prenumeration", "Target": "Mål", "Requested": "Begärd",
    "Finished": "Klar", "Error code": "Felkod", "Users": "Användare", "Name": "Namn", "User name": "Användarnamn",
    "Invoices": "Fakturor", "Number": "Nummer", "Date": "Datum", "Due": "Förfaller", "Total": "Summa",
    "Balance": "Saldo", "Charge": "Debitering", "Result": "Resultat", "Change": "Ändring", "Details": "Detaljer",
    "Blockers": "Hinder",
    "No subscriptions.": "Inga prenumerationer.", "No plan changes.": "Inga planändringar.",
    "No users.": "Inga användare.", "No invoices.": "Inga fakturor.",
    # change and cancel
    "Idempotency-Key: {key}": "Idempotency-Key: {key}",
    "Plan change {id}: {status}, subscription {subscription} to {target} ({licenses} licenses).":
        "Planändring {id}: {status}, prenumeration {subscription} till {target} ({licenses} licenser).",
    "Scheduled for the renewal on {date}; --wait doesn't wait for it.":
        "Schemalagd till förnyelsen {date}; --wait väntar inte på den.",
    "Plan change {id} completed: subscription {old} was replaced by subscription {new}.":
        "Planändring {id} slutförd: prenumeration {old} har ersatts av prenumeration {new}.",
    "Credit {credit} on invoice {invoice}.": "Kredit {credit} på faktura {invoice}.",
    "Plan change {id} failed: {reason}": "Planändring {id} misslyckades: {reason}",
    "Plan change {id} was cancelled.": "Planändring {id} avbröts.",
    "Plan change {id} stopped at step {step}: {reason} Support must retry it.":
        "Planändring {id} stannade vid steget {step}: {reason} Supporten måste försöka igen.",
    "Plan change {id} was still {status} after {seconds} seconds; follow it with portalctl changes.":
        "Planändring {id} hade status {status} efter {seconds} sekunder; följ den med portalctl changes.",
    "Step {step}: {status}": "Steg {step}: {status}",
    "Plan change {id}": "Planändring {id}",
    "Unknown status {status}: use one of {choices}.": "Okänd status {status}: använd en av {choices}.",
    # bulk-change
    "Batch key: {key}": "Batchnyckel: {key}",
    "No active {sku} subscription.": "Ingen aktiv prenumeration av {sku}.",
    "Dry run: nothing was changed.": "Provkörning: inget har ändrats.",
    "{started} started, {already} already started, {refused} refused.":
        "{started} startade, {already} redan startade, {refused} nekade.",
    "{ok} of {rows} can change; {refused} refused.": "{ok} av {rows} kan ändras; {refused} nekade.",
    "From {source} to {target}": "Från {source} till {target}",
    # the clock
    "days": "dagar", "Preview to {to}": "Förhandsgranskning till {to}", "Moving to {to}": "Flyttar till {to}",
    "{n} happened": "{n} har hänt",
    "Interrupted; the move of the clock goes on: follow it with portalctl clock --move {id}.":
        "Avbrutet; flytten av klockan fortsätter: följ den med portalctl clock --move {id}.",
    "Dry run from {start} to {end}: {n} things would happen; nothing moved.":
        "Testkörning från {start} till {end}: {n} saker skulle hända; inget flyttades.",
    "The clock moved from {start} to {end}: {n} things happened.":
        "Klockan flyttades från {start} till {end}: {n} saker hände.",
    "… and {n} more (--json lists them all).": "… och {n} till (--json listar alla).",
    "What": "Vad", "Organization": "Organisation", "Subject": "Gäller", "Detail": "Detaljer",
    "Simulation date: {today}": "Simuleringsdatum: {today}", "Clock move {id}": "Klockflytt {id}",
    "The move stopped on {day} with an error: {error}": "Flytten stannade den {day} med ett fel: {error}",
    "Still going after {seconds} s ({done} of {total} days): follow it with portalctl clock --move {id}.":
        "Pågår fortfarande efter {seconds} s ({done} av {total} dagar): följ den med portalctl clock --move {id}.",
}
