from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "abonent.cli"
    label = "cli"
