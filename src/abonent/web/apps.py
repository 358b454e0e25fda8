from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "abonent.web"
    label = "web"
