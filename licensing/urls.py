from django.urls import path

from licensing import views

app_name = "users"
urlpatterns = [
    path("", views.active_users, name="active"),
    path("licenses/", views.manage_licenses, name="manage-licenses"),
]
