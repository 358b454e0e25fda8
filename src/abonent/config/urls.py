from django.contrib import admin
from django.urls import include, path

from abonent.api.urls import api
from abonent.config import handlers

urlpatterns = [
    path("api/v1/", api.urls),
    path("backoffice/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("auth/esia/", include("abonent.web.esia")),  # «Войти через Госуслуги»
    path("", include("django_prometheus.urls")),
    path("", include("abonent.web.urls")),
]

handler400 = handlers.bad_request
handler403 = handlers.permission_denied
handler404 = handlers.page_not_found
handler500 = handlers.server_error
