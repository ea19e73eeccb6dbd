from django.urls import path

from webhooks import views

# Settings > Webhooks (portal/urls.py includes these under /settings/, URL namespace "settings").
urlpatterns = [
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<id:webhook_id>/", views.webhook, name="webhook"),
    path("webhooks/<id:webhook_id>/test/", views.webhook_test, name="webhook-test"),
    path("webhooks/<id:webhook_id>/delete/", views.webhook_delete, name="webhook-delete"),
    path("webhooks/<id:webhook_id>/deliveries/<id:delivery_id>/resend/", views.webhook_resend,
         name="webhook-resend"),
]
