from django.urls import path

from abonent.web import views

app_name = "web"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("demo/outbox/", views.outbox, name="outbox"),
]
