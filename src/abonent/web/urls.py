from django.urls import path

from abonent.web import (
    accounts,
    appeals,
    auth,
    bills,
    money,
    notifications,
    payments,
    profile,
    readings,
    sandbox,
    views,
)

app_name = "web"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("demo/outbox/", views.outbox, name="outbox"),
    # registration, login, recovery
    path("register/", auth.register, name="register"),
    path("register/confirm/", auth.register_confirm, name="register_confirm"),
    path("register/confirm/resend/", auth.register_resend, name="register_resend"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("password/forgot/", auth.password_forgot, name="password_forgot"),
    path("password/forgot/sent/", auth.password_forgot_sent, name="password_forgot_sent"),
    path("password/reset/code/", auth.password_reset_code, name="password_reset_code"),
    path("password/reset/code/resend/", auth.password_reset_resend, name="password_reset_resend"),
    path("password/reset/<str:uidb64>/<str:token>/", auth.password_reset_link, name="password_reset_link"),
    # personal accounts
    path("home/", accounts.home, name="home"),
    path("accounts/", accounts.account_list, name="accounts"),
    path("accounts/link/", accounts.account_link, name="account_link"),
    path("accounts/<int:account_id>/", accounts.account_detail, name="account"),
    path("accounts/<int:account_id>/settings/", accounts.account_settings, name="account_settings"),
    path("accounts/<int:account_id>/default/", accounts.account_make_default, name="account_default"),
    path("accounts/<int:account_id>/unlink/", accounts.account_unlink, name="account_unlink"),
    path("accounts/<int:account_id>/bill-delivery/", accounts.account_paper_bill, name="account_paper_bill"),
    # meter readings
    path("accounts/<int:account_id>/readings/", readings.readings, name="readings"),
    path("accounts/<int:account_id>/readings/sent/", readings.readings_sent, name="readings_sent"),
    path("accounts/<int:account_id>/meters/<int:meter_id>/", readings.meter_history, name="meter_history"),
    # money: charges, penalties, prices and norms, consumption
    path("accounts/<int:account_id>/charges/", money.charges, name="charges"),
    path("accounts/<int:account_id>/penalties/", money.penalties, name="penalties"),
    path("accounts/<int:account_id>/tariffs/", money.tariffs, name="tariffs"),
    path("accounts/<int:account_id>/consumption/", money.consumption, name="consumption"),
    # bills (ЕПД): the PDF of a month, the same sent to the confirmed e-mail
    path("accounts/<int:account_id>/bills/<str:period>.pdf", bills.bill_pdf, name="bill_pdf"),
    path("accounts/<int:account_id>/bills/<str:period>/email/", bills.bill_email, name="bill_email"),
    # payments: the pay page, a payment's page (where the gateway sends the payer back), the history
    path("payments/", payments.payment_history, name="payments"),
    path("payments/new/", payments.payment_new, name="payment_new"),
    path("payments/<uuid:public_id>/", payments.payment_result, name="payment"),
    path("accounts/<int:account_id>/payments/", payments.account_payments, name="account_payments"),
    # the sandbox gateway's payment page (only with PAYMENT_GATEWAY=sandbox)
    path("sandbox/pay/<str:gateway_payment_id>/", sandbox.sandbox_pay, name="sandbox_pay"),
    # the profile
    path("profile/", profile.profile, name="profile"),
    path("profile/phone/", profile.contact_change, {"kind": "phone"}, name="profile_phone"),
    path("profile/phone/confirm/", profile.contact_change_confirm, {"kind": "phone"}, name="profile_phone_confirm"),
    path("profile/phone/resend/", profile.contact_change_resend, {"kind": "phone"}, name="profile_phone_resend"),
    path("profile/email/", profile.contact_change, {"kind": "email"}, name="profile_email"),
    path("profile/email/confirm/", profile.contact_change_confirm, {"kind": "email"}, name="profile_email_confirm"),
    path("profile/email/resend/", profile.contact_change_resend, {"kind": "email"}, name="profile_email_resend"),
    path("profile/password/", profile.password_change, name="profile_password"),
    path("profile/marketing/", profile.marketing_consent, name="profile_marketing"),
    path("profile/sessions/", profile.sessions, name="profile_sessions"),
    path("profile/sessions/<int:session_id>/end/", profile.session_end, name="profile_session_end"),
    path("profile/sessions/end-others/", profile.sessions_end_others, name="profile_sessions_end_others"),
    path("profile/delete/", profile.deletion, name="profile_delete"),
    # messages: the notification centre, what comes where and in which language
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read_all, name="notifications_read_all"),
    path("profile/notifications/", notifications.notification_settings, name="profile_notifications"),
    path("profile/notifications/language/", notifications.message_language, name="profile_language"),
    # appeals and applications for connection: the list, writing, a case, its files
    path("appeals/", appeals.appeal_list, name="appeals"),
    path("appeals/new/", appeals.appeal_new, name="appeal_new"),
    path("connection/new/", appeals.connection_new, name="connection_new"),
    path("appeals/<int:appeal_id>/", appeals.appeal_detail, name="appeal"),
    path("appeals/<int:appeal_id>/reply/", appeals.appeal_reply, name="appeal_reply"),
    path("appeals/<int:appeal_id>/rate/", appeals.appeal_rate, name="appeal_rate"),
    path("appeals/<int:appeal_id>/withdraw/", appeals.appeal_withdraw, name="appeal_withdraw"),
    path("appeals/<int:appeal_id>/files/<int:attachment_id>/", appeals.appeal_file, name="appeal_file"),
    # the suppliers' contacts and a message to them for anyone
    path("contacts/", appeals.contacts, name="contacts"),
    path("contacts/sent/", appeals.contacts_sent, name="contacts_sent"),
]
