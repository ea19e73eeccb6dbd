"""What an import says when done (the command prints it, the upload page shows it): the tenant, what was left
out, what was assumed, and the admin login's password and token, once."""

from django.utils.translation import gettext as _

from simulation.imports.service import ImportResult


def result_lines(result: ImportResult) -> list[str]:
    t = result.tenant
    lines = [(_("Replaced %(name)s (%(domain)s): %(users)d users.") if result.replaced
              else _("Imported %(name)s (%(domain)s): %(users)d users.")) % {
        "name": t.name, "domain": t.domain, "users": result.users}]
    lines += [f"  {line}" for line in result.lines]
    if result.unknown_skus:
        lines.append(_("Left out (SKUs the catalog doesn't have):"))
        lines += ["  " + _("%(sku)s (%(id)s): %(licenses)d licenses, %(users)d users") % {
            "sku": s["skuPartNumber"], "id": s["skuId"], "licenses": s["licenses"], "users": s["users"]}
            for s in result.unknown_skus]
    if result.unknown_plans:
        lines.append(_("Kept as the file names them (service plans the catalog doesn't know):"))
        lines += ["  " + _("%(name)s (%(id)s): off for %(users)d users") % {
            "name": p["name"], "id": p["servicePlanId"], "users": p["users"]} for p in result.unknown_plans]
    lines.append(_("Assumed (Graph doesn't say; options of import_tenant change them):"))
    lines += [f"  {what}: {value}" for what, value in result.assumed]
    lines.append(_("Admin login (shown once): %(username)s, password %(password)s, API token %(token)s") % {
        "username": result.admin, "password": result.password, "token": result.token})
    return lines
