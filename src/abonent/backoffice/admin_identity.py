"""The back office for identity: profiles' sessions and consents, consent texts, deletion
requests (processed through the identity services), and the audit trail."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from abonent.core.clock import now
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.models import AuditRecord
from abonent.customers.services import account_number_normalize
from abonent.identity.enums import DeletionStatus
from abonent.identity.models import AuthSession, Consent, ConsentDocument, DeletionRequest, User
from abonent.identity.services import deletion_request_complete, deletion_request_refuse, deletion_request_take

_LINK_OBJECT = "customers.accountlink"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    list_display = ["kind", "version", "effective_from"]
    list_filter = ["kind"]

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentDocument | None = None) -> list[str]:
        # a text people agreed to is never edited: publish a new version instead
        return ["kind", "version", "purpose", "text", "effective_from"] if obj else []

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "document", "granted_at", "channel", "withdrawn_at"]
    list_filter = ["kind", "channel"]
    search_fields = ["=user__phone", "=user__email"]
    list_select_related = ["user", "document"]


@admin.register(AuthSession)
class AuthSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "device_name", "ip", "created_at", "last_seen_at", "ended_at", "end_reason"]
    list_filter = ["kind", "end_reason"]
    search_fields = ["=user__phone", "=user__email"]
    list_select_related = ["user"]
    exclude = ["session_key"]


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "object_type", "object_id", "actor_id", "channel", "ip"]
    list_filter = ["action", "channel"]
    search_fields = ["=object_id", "=actor_id"]
    search_help_text = _(
        "Номер объекта, номер пользователя или номер лицевого счёта (12 цифр) — его привязки и отвязки"
    )
    date_hierarchy = "at"
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditRecord], search_term: str
    ) -> tuple[QuerySet[AuditRecord], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        try:
            number = account_number_normalize(search_term)
        except DomainError:
            return found, duplicates
        # The records of links keep the account's number (a removed link has no row to join):
        # narrowed by the indexed object type first.
        links = queryset.filter(object_type=_LINK_OBJECT).filter(Q(before__number=number) | Q(after__number=number))
        return found | links, duplicates


class DeletionDecisionForm(forms.Form):
    outcome = forms.CharField(
        label=_("Что сообщить абоненту"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000
    )


@admin.register(DeletionRequest)
class DeletionRequestAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "user", "contact", "status", "due_by", "processed_at"]
    list_filter = ["status"]
    readonly_fields = [
        "user",
        "contact",
        "contact_kind",
        "requested_at",
        "due_by",
        "reason",
        "status",
        "taken_at",
        "outcome",
        "processed_at",
        "processed_by",
    ]
    change_form_template = "backoffice/deletionrequest_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:pk>/take/",
                self.admin_site.admin_view(self.take),
                name="identity_deletionrequest_take",
            ),
            path(
                "<int:pk>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide),
                name="identity_deletionrequest_decide",
            ),
            *super().get_urls(),
        ]

    def take(self, request: HttpRequest, pk: int) -> HttpResponse:
        """«Взять в работу» (POST only): the subscriber sees the request «в работе»."""
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        get_object_or_404(DeletionRequest, pk=pk)
        assert isinstance(request.user, User)
        try:
            deletion_request_take(request_id=pk, operator=request.user, now=now())
        except DomainError as exc:
            messages.error(request, exc.text)
        else:
            messages.success(request, _("Заявка взята в работу: абонент видит её в состоянии «в работе»"))
        return HttpResponseRedirect(reverse("admin:identity_deletionrequest_change", args=[pk]))

    def decide(self, request: HttpRequest, pk: int, decision: str) -> HttpResponse:
        """Complete (erase the profile) or refuse a request, through the identity services."""
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        deletion = get_object_or_404(DeletionRequest, pk=pk)
        if decision not in {"complete", "refuse"}:
            return HttpResponse(status=404)
        form = DeletionDecisionForm(request.POST or None)
        back = reverse("admin:identity_deletionrequest_change", args=[pk])
        if request.method == "POST" and form.is_valid():
            service = deletion_request_complete if decision == "complete" else deletion_request_refuse
            assert isinstance(request.user, User)
            try:
                service(request_id=pk, operator=request.user, outcome=form.cleaned_data["outcome"], now=now())
            except ValidationFailed as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            except DomainError as exc:
                messages.error(request, exc.text)
                return HttpResponseRedirect(back)
            else:
                messages.success(request, _("Решение по заявке сохранено, абоненту отправлено сообщение"))
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Удалить профиль") if decision == "complete" else _("Отказать в удалении"),
            "deletion": deletion,
            "decision": decision,
            "form": form,
            "opts": self.model._meta,
            "open": deletion.status in (DeletionStatus.NEW, DeletionStatus.IN_PROGRESS),
        }
        return TemplateResponse(request, "backoffice/deletionrequest_decide.html", context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeletionRequest]:
        return super().get_queryset(request).select_related("user", "processed_by")
