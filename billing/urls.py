from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("products/", views.your_products, name="products"),
]
