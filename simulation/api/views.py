"""The simulation's API: support staff's clock (``/api/v1/support/clock/``)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from portal import clock
from portal.api.mixins import IsSupportStaff
from simulation.api.serializers import ClockMovedSerializer, ClockSerializer
from simulation.days import changes_started
from simulation.moves import clock_move


class SupportClockView(GenericAPIView):
    """The simulation clock (support staff): GET it, POST to move it forward; the sweep runs at once."""

    permission_classes = [IsAuthenticated, IsSupportStaff]
    serializer_class = ClockSerializer

    @extend_schema(responses=inline_serializer("Clock", {"now": drf_serializers.DateTimeField(),
                                                         "today": drf_serializers.DateField()}))
    def get(self, request):
        return Response({"now": clock.now(), "today": clock.today()})

    @extend_schema(request=ClockSerializer, responses=ClockMovedSerializer)
    def post(self, request):
        """Move the clock forward, applying every day on the way in order (renewals, invoices, lifecycle
        moves, scheduled changes, credit checks, provisioning); ``dry_run`` lists them and moves nothing."""
        data = ClockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = clock_move(actor=request.user.get_username(), **data.validated_data)
        return Response({"now": clock.now(), "today": clock.today(), **moved,
                         "sweep": {"scheduled_started": changes_started(moved["events"])}})
