from tests.conftest import _catalog_present, _test_settings  # noqa: F401 - same test settings
