from django.urls import path

from planchange import views

app_name = "planchange"
urlpatterns = [
    path("products/<int:subscription_id>/", views.subscription_detail, name="subscription"),
    path("products/<int:subscription_id>/upgrades/", views.available_upgrades, name="upgrades"),
    path("products/<int:subscription_id>/upgrades/<str:sku>/checkout/", views.checkout, name="checkout"),
    path("products/<int:subscription_id>/change/", views.change_option, name="change-option"),
    path("products/<int:subscription_id>/changes/<int:change_id>/cancel/", views.cancel_change,
         name="cancel-change"),
    path("changes/<int:change_id>/", views.change_detail, name="change"),
    path("changes/<int:change_id>/progress/", views.change_progress, name="change-progress"),
]
