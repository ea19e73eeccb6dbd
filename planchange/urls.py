from django.urls import path

from planchange import views

app_name = "planchange"
urlpatterns = [
    path("products/<id:subscription_id>/", views.subscription_detail, name="subscription"),
    path("products/<id:subscription_id>/upgrades/", views.available_upgrades, name="upgrades"),
    path("products/<id:subscription_id>/upgrades/<str:sku>/checkout/", views.checkout, name="checkout"),
    path("products/<id:subscription_id>/change/", views.change_option, name="change-option"),
    path("products/<id:subscription_id>/users.csv", views.users_csv, name="users-csv"),
    path("products/<id:subscription_id>/changes/<id:change_id>/cancel/", views.cancel_change,
         name="cancel-change"),
    path("changes/<id:change_id>/", views.change_detail, name="change"),
    path("changes/<id:change_id>/progress/", views.change_progress, name="change-progress"),
]
