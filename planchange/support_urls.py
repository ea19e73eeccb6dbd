from django.urls import path

from planchange import support_views

app_name = "support"
urlpatterns = [
    path("", support_views.console, name="console"),
    path("clock/", support_views.advance_clock, name="clock"),
]
