from django.apps import AppConfig


class PlanchangeConfig(AppConfig):
    name = "planchange"
