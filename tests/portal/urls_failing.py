"""The portal's URLs plus views that fail the way a bug would, to pin what the API answers
then (tests/portal/test_input_guard.py)."""

from django.db import transaction
from django.urls import path
from rest_framework.views import APIView

from licensing.models import DirectoryUser
from portal.urls import handler400, handler403, handler404, handler500  # noqa: F401 - Django reads them here
from portal.urls import urlpatterns as portal_urlpatterns


class CrashView(APIView):
    def get(self, request):
        raise RuntimeError("a bug")


class DuplicateUserView(APIView):
    """A write the database refuses: what a service that forgot to check first would do."""

    def post(self, request):
        taken = DirectoryUser.objects.get(upn="taken@contoso.com")
        with transaction.atomic():  # as every service writes
            DirectoryUser.objects.create(tenant=taken.tenant, upn=taken.upn, display_name="Again")


def crash(request):
    raise RuntimeError("a bug outside DRF")


urlpatterns = [
    path("api/v1/test-crash/", CrashView.as_view()),
    path("api/v1/test-integrity/", DuplicateUserView.as_view()),
    path("api/test-crash-django/", crash),
    *portal_urlpatterns,
]
