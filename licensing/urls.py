from django.urls import path

from licensing import views

app_name = "users"
urlpatterns = [
    path("", views.active_users, name="active"),
    path("unassign/", views.unassign, name="unassign"),
    path("licenses/", views.manage_licenses, name="manage-licenses"),
]
