from django.urls import path

from planchange import views

app_name = "planchange"
urlpatterns = [
    path("<int:subscription_id>/", views.subscription_detail, name="subscription"),
    path("<int:subscription_id>/upgrades/", views.available_upgrades, name="upgrades"),
    path("<int:subscription_id>/upgrades/<str:sku>/checkout/", views.checkout, name="checkout"),
    path("<int:subscription_id>/changes/<int:change_id>/cancel/", views.cancel_change, name="cancel-change"),
]
