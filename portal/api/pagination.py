from collections.abc import Callable

from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

from portal.inputs import whole_number


class Paginator(DjangoPaginator):
    """Django's, except that a first page holding fewer rows than a page holds is the whole list: its
    ``count`` is the rows read, not a COUNT query (most lists of a tenant fit on one page)."""

    def page(self, number):
        if str(number) != "1":
            return super().page(number)
        rows = list(self.object_list[:self.per_page])
        if len(rows) < self.per_page:
            self.__dict__["count"] = len(rows)  # Django's cached_property, known without asking
        return self._get_page(rows, 1, self)


class FirstPageRead:
    """What a list view hands the paginator when its first page has a reader of its own: ``[:n]`` is
    ``first(n)`` (a selector reading the same rows with SQL compiled once per process); any other slice and
    the count (of a full first page) are the queryset's, built by ``queryset()`` when needed."""

    def __init__(self, *, first: Callable[[int], list], queryset: Callable[[], QuerySet]):
        self.first = first
        self.queryset = queryset

    def __getitem__(self, index):
        if isinstance(index, slice) and not index.start and index.step is None and index.stop is not None:
            return self.first(index.stop)
        return self.queryset()[index]

    def count(self) -> int:
        return self.queryset().count()


class Pagination(PageNumberPagination):
    """``count``, ``next``, ``previous``, ``results``; ``?page_size=`` up to 500. Page numbers and
    sizes are ASCII digits (Django's paginator would take ``?page=٤`` as page 4); a page size that
    isn't a whole number of 1 or more is 400 ``invalid``, not silently the default."""

    django_paginator_class = Paginator
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings or whole_number(raw) is not None:  # "?page=" is no page number either
            return raw
        raise NotFound(self.invalid_page_message.format(
            page_number=raw, message=paginator.error_messages["invalid_page"]))

    def get_page_size(self, request):
        if self.page_size_query_param not in request.query_params:
            return self.page_size
        if whole_number(request.query_params[self.page_size_query_param], min_value=1) is None:
            raise ValidationError({self.page_size_query_param: [_("Give a whole number of 1 or more.")]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page, 1 or more (default {self.page_size}; more than {self.max_page_size} "
                    f"gives {self.max_page_size}).")
        return parameters

    def get_paginated_response_schema(self, schema):
        # Every page has all four, ``next`` and ``previous`` null at the ends.
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated
