"""A tenant made from a Microsoft Graph export (``examples/export_tenant.py``): the file read and checked
(``export_file``), turned into a scenario tenant (``convert``, ``anonymize``) and loaded by the scenario loader,
so each app writes its own rows (``service``). docs/import.md."""
