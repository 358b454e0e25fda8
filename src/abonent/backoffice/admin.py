from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from abonent.core.models import Supplier, SupplierTerms
from abonent.core.services import supplier_terms_add_statutory
from abonent.identity.models import User
from abonent.notifications.models import OutboxMessage

admin.site.site_header = _("Абонент — бэк-офис")
admin.site.site_title = _("Бэк-офис")
admin.site.index_title = _("Работа с абонентами")
#: The index starts with the day's work: the readings to review, the import of readings.
admin.site.index_template = "backoffice/index.html"


class SupplierTermsInline(admin.TabularInline):
    model = SupplierTerms
    extra = 0
    fields = [
        "effective_from",
        "reading_window_start_day",
        "reading_window_end_day",
        "due_day",
        "bill_delivery_day",
        "sbp_allowed",
        "paperless_allowed",
        "link_proofs",
    ]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["short_name", "code", "inn", "time_zone", "hotline_phone", "is_active"]
    search_fields = ["short_name", "legal_name", "inn", "code"]
    inlines = [SupplierTermsInline]
    fieldsets = [
        (None, {"fields": ["code", "short_name", "legal_name", "is_active", "time_zone"]}),
        (_("Реквизиты"), {"fields": ["inn", "kpp", "ogrn", "legal_address", "postal_address"]}),
        (_("Контакты"), {"fields": ["hotline_phone", "phones", "email", "site", "feedback_url", "office_hours"]}),
        (_("Банк"), {"fields": ["bank_name", "bic", "settlement_account", "correspondent_account"]}),
    ]

    def save_related(self, request: HttpRequest, form: ModelForm[Supplier], formsets: list[Any], change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change:
            supplier_terms_add_statutory(supplier=form.instance)


@admin.register(SupplierTerms)
class SupplierTermsAdmin(admin.ModelAdmin):
    list_display = [
        "supplier",
        "effective_from",
        "due_day",
        "bill_delivery_day",
        "reading_window_start_day",
        "reading_window_end_day",
        "paperless_allowed",
    ]
    list_filter = ["supplier"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "subject"]
    list_filter = ["channel"]
    search_fields = ["recipient"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxMessage]:
        return super().get_queryset(request)


@admin.register(User)
class AbonentUserAdmin(UserAdmin):
    list_display = ["username", "phone", "email", "last_name", "first_name", "is_staff"]
    search_fields = ["username", "phone", "email", "last_name"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Контакты абонента"), {"fields": ["phone", "middle_name"]}),
    )
