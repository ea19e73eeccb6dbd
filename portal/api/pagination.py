from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

from portal.inputs import whole_number


class Pagination(PageNumberPagination):
    """``count``, ``next``, ``previous``, ``results``; ``?page_size=`` up to 500. Page numbers and
    sizes are ASCII digits (Django's paginator would take ``?page=٤`` as page 4)."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param) or 1
        if raw in self.last_page_strings or whole_number(raw) is not None:
            return raw
        raise NotFound(self.invalid_page_message.format(
            page_number=raw, message=paginator.error_messages["invalid_page"]))

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and whole_number(raw, min_value=1) is None:
            return self.page_size  # as DRF does with any page size it can't read
        return super().get_page_size(request)
