from django.urls import path

from planchange import views

app_name = "planchange"
urlpatterns = [
    path("<int:subscription_id>/", views.subscription_detail, name="subscription"),
    path("<int:subscription_id>/upgrades/", views.available_upgrades, name="upgrades"),
    path("<int:subscription_id>/upgrades/<str:sku>/checkout/", views.checkout, name="checkout"),
]
