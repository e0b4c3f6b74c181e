"""Every route of Uphold. Each one has its row in tests/test_authorization.py."""

from django.urls import path
from django.views.i18n import set_language

from uphold.accounts import views as accounts
from uphold.attachments import views as attachments
from uphold.demands import views as demands
from uphold.mailin import views as mailin
from uphold.people import views as people
from uphold.portal import views as portal
from uphold.processes import views as processes
from uphold.programmes import views as programmes
from uphold.record import views as record
from uphold.reflections import views as reflections
from uphold.reports import views as reports
from uphold.survivor import views as survivor
from uphold.web import views as web
from uphold.web.access import public_view

urlpatterns = [
    path("", web.home, name="home"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("leave/", accounts.leave_view, name="leave"),
    path("language/", public_view(set_language), name="set_language"),
    path("invite/<str:token>/", accounts.invite_view, name="invite"),
    path("account/password/", accounts.password_view, name="password"),
    path("account/recover/", accounts.recover_view, name="recover"),
    path("account/confirm/", accounts.reauth_view, name="reauth"),
    path("account/settings/", accounts.settings_view, name="account-settings"),
    path("admin/accounts/", accounts.admin_accounts_view, name="admin-accounts"),
    path(
        "admin/accounts/<int:user_id>/active/",
        accounts.admin_account_active_view,
        name="admin-account-active",
    ),
    path(
        "admin/accounts/<int:user_id>/reset/",
        accounts.admin_account_reset_view,
        name="admin-account-reset",
    ),
    path("reset/<str:token>/", accounts.reset_view, name="reset"),
    path(
        "admin/accounts/<int:user_id>/unlock/",
        accounts.admin_account_unlock_view,
        name="admin-account-unlock",
    ),
    path("admin/health/", accounts.admin_health_view, name="admin-health"),
    path("p/new/", processes.start_view, name="process-start"),
    path("p/<slug:code>/", processes.process_page, name="process"),
    path("p/<slug:code>/members/", processes.members_view, name="members"),
    path("p/<slug:code>/members/invite/", processes.invite_view, name="member-invite"),
    path(
        "p/<slug:code>/members/<int:member_id>/grant/",
        processes.grant_view,
        name="member-grant",
    ),
    path(
        "p/<slug:code>/members/invitations/<int:invitation_id>/withdraw/",
        processes.withdraw_view,
        name="invitation-withdraw",
    ),
    path("p/<slug:code>/settings/", processes.settings_view, name="process-settings"),
    path("p/<slug:code>/audit/", processes.audit_view, name="audit"),
    path("p/<slug:code>/keys/rotate/", processes.rotate_view, name="keys-rotate"),
    path("p/<slug:code>/documents/", attachments.documents_view, name="documents"),
    path(
        "p/<slug:code>/documents/<uuid:attachment_id>/",
        attachments.download_view,
        name="document",
    ),
    path(
        "p/<slug:code>/members/<int:member_id>/remove/",
        processes.remove_view,
        name="member-remove",
    ),
    path("p/<slug:code>/demands/", demands.letter_view, name="demands"),
    path("p/<slug:code>/demands/new/", demands.demand_add_view, name="demand-add"),
    path("p/<slug:code>/demands/<int:number>/", demands.demand_view, name="demand"),
    path(
        "p/<slug:code>/demands/<int:number>/propose/",
        demands.propose_view,
        name="demand-propose",
    ),
    path(
        "p/<slug:code>/demands/<int:number>/progress/",
        demands.progress_view,
        name="demand-progress",
    ),
    path("p/<slug:code>/demands/<int:number>/answer/", demands.answer_view, name="demand-answer"),
    path("p/<slug:code>/proposals/<int:proposal_id>/", demands.proposal_view, name="proposal"),
    path("p/<slug:code>/letter/", demands.letter_edit_view, name="letter-edit"),
    path("p/<slug:code>/letter/sent/", demands.letter_sent_view, name="letter-sent"),
    path(
        "p/<slug:code>/letter/versions/<int:revision>/",
        demands.letter_version_view,
        name="letter-version",
    ),
    path(
        "p/<slug:code>/letter/documents/",
        attachments.letter_upload_view,
        name="letter-documents",
    ),
    path(
        "p/<slug:code>/letter/documents/<uuid:attachment_id>/",
        attachments.letter_download_view,
        name="letter-document",
    ),
    path("p/<slug:code>/log/", record.log_view, name="log"),
    path("p/<slug:code>/timeline/", record.timeline_view, name="timeline"),
    path("p/<slug:code>/reports/", reports.reports_view, name="reports"),
    path("p/<slug:code>/reports/export/", reports.report_export_view, name="report-export"),
    path("p/<slug:code>/reports/release/", reports.report_release_view, name="report-release"),
    path("p/<slug:code>/reports/words/", reports.report_words_view, name="report-words"),
    path("p/<slug:code>/portal/", portal.portal_view, name="portal"),
    path("p/<slug:code>/portal/send/", portal.portal_send_view, name="portal-send"),
    path("p/<slug:code>/survivor/", survivor.survivor_view, name="survivor"),
    path("p/<slug:code>/survivor/ask/", survivor.ask_view, name="survivor-ask"),
    path(
        "p/<slug:code>/survivor/preferences/",
        survivor.preferences_view,
        name="survivor-preferences",
    ),
    path("p/<slug:code>/survivor/withhold/", survivor.withhold_view, name="survivor-withhold"),
    path(
        "p/<slug:code>/survivor/withhold/<int:withholding_id>/remove/",
        survivor.withhold_remove_view,
        name="survivor-withhold-remove",
    ),
    path("p/<slug:code>/survivor/access/", survivor.access_view, name="survivor-access"),
    path("p/<slug:code>/requests/", survivor.requests_view, name="item-requests"),
    path("p/<slug:code>/mail/", mailin.mail_view, name="mail"),
    path("p/<slug:code>/mail/addresses/", mailin.address_add_view, name="mail-address-add"),
    path(
        "p/<slug:code>/mail/addresses/<int:address_id>/remove/",
        mailin.address_remove_view,
        name="mail-address-remove",
    ),
    path("p/<slug:code>/mail/imap/", mailin.imap_add_view, name="mail-imap-add"),
    path(
        "p/<slug:code>/mail/imap/<int:account_id>/remove/",
        mailin.imap_remove_view,
        name="mail-imap-remove",
    ),
    path(
        "p/<slug:code>/mail/imap/<int:account_id>/fetch/",
        mailin.imap_fetch_view,
        name="mail-imap-fetch",
    ),
    path("p/<slug:code>/mail/imports/<int:batch_id>/", mailin.import_view, name="mail-import"),
    path(
        "p/<slug:code>/mail/imports/<int:batch_id>/choose/",
        mailin.choose_view,
        name="mail-import-choose",
    ),
    path(
        "p/<slug:code>/mail/imports/<int:batch_id>/confirm/",
        mailin.confirm_view,
        name="mail-import-confirm",
    ),
    path(
        "p/<slug:code>/mail/imports/<int:batch_id>/drop/",
        mailin.drop_view,
        name="mail-import-drop",
    ),
    path(
        "p/<slug:code>/mail/imports/<int:batch_id>/undo/",
        mailin.undo_view,
        name="mail-import-undo",
    ),
    path(
        "p/<slug:code>/requests/<int:request_id>/release/",
        survivor.item_release_view,
        name="item-release",
    ),
    path(
        "p/<slug:code>/requests/<int:request_id>/decline/",
        survivor.item_decline_view,
        name="item-decline",
    ),
    path("p/<slug:code>/reports/released/", reports.released_view, name="released-reports"),
    path("p/<slug:code>/log/new/", record.entry_add_view, name="entry-add"),
    path("p/<slug:code>/log/<int:entry_id>/", record.entry_view, name="entry"),
    path("p/<slug:code>/log/<int:entry_id>/edit/", record.entry_edit_view, name="entry-edit"),
    path(
        "p/<slug:code>/log/<int:entry_id>/documents/",
        record.entry_upload_view,
        name="entry-documents",
    ),
    path("p/<slug:code>/meetings/", record.meetings_view, name="meetings"),
    path("p/<slug:code>/meetings/new/", record.meeting_add_view, name="meeting-add"),
    path("p/<slug:code>/meetings/past/", record.meeting_past_view, name="meeting-past"),
    path("p/<slug:code>/meetings/<int:meeting_id>/", record.meeting_view, name="meeting"),
    path(
        "p/<slug:code>/meetings/<int:meeting_id>/outcome/",
        record.meeting_outcome_view,
        name="meeting-outcome",
    ),
    path(
        "p/<slug:code>/meetings/<int:meeting_id>/meeting.ics",
        record.meeting_ics_view,
        name="meeting-ics",
    ),
    path(
        "p/<slug:code>/meetings/<int:meeting_id>/confirmation/prepare/",
        record.confirmation_prepare_view,
        name="confirmation-prepare",
    ),
    path(
        "p/<slug:code>/meetings/<int:meeting_id>/confirmation/",
        record.confirmation_view,
        name="confirmation",
    ),
    path("p/<slug:code>/steps/", record.steps_view, name="steps"),
    path("p/<slug:code>/steps/new/", record.step_add_view, name="step-add"),
    path("p/<slug:code>/steps/<int:step_id>/", record.step_view, name="step"),
    path("p/<slug:code>/steps/<int:step_id>/change/", record.step_change_view, name="step-change"),
    path("p/<slug:code>/reflections/", reflections.reflections_view, name="reflections"),
    path("p/<slug:code>/reflections/new/", reflections.reflection_add_view, name="reflection-add"),
    path(
        "p/<slug:code>/reflections/<int:reflection_id>/",
        reflections.reflection_view,
        name="reflection",
    ),
    path(
        "p/<slug:code>/reflections/<int:reflection_id>/review/",
        reflections.review_add_view,
        name="review-add",
    ),
    path("p/<slug:code>/reviews/<int:review_id>/", reflections.review_view, name="review"),
    path(
        "p/<slug:code>/reviews/<int:review_id>/edit/",
        reflections.review_edit_view,
        name="review-edit",
    ),
    path(
        "p/<slug:code>/reviews/<int:review_id>/release/",
        reflections.review_release_view,
        name="review-release",
    ),
    path(
        "p/<slug:code>/reviews/<int:review_id>/withdraw/",
        reflections.review_withdraw_view,
        name="review-withdraw",
    ),
    path("p/<slug:code>/released/", reflections.released_view, name="reviews-released"),
    path("p/<slug:code>/calendar/", record.feeds_view, name="feeds"),
    path("p/<slug:code>/people/", people.people_view, name="people"),
    path("p/<slug:code>/people/new/", people.person_add_view, name="person-add"),
    path("p/<slug:code>/people/<int:person_id>/", people.person_view, name="person"),
    path("p/<slug:code>/people/<int:person_id>/edit/", people.person_edit_view, name="person-edit"),
    path(
        "p/<slug:code>/people/<int:person_id>/informed/",
        people.informed_view,
        name="person-informed",
    ),
    path("p/<slug:code>/people/<int:person_id>/stance/", people.stance_view, name="person-stance"),
    path("p/<slug:code>/informing/", people.informing_view, name="informing"),
    path("p/<slug:code>/informing/demand/", people.informing_demand_view, name="informing-demand"),
    path("calendar/<str:token>.ics", record.feed_view, name="feed"),
    # The programme directory, shared by the server, and each process's referrals.
    path("programmes/", programmes.directory_view, name="programmes"),
    path("programmes/new/", programmes.programme_add_view, name="programme-add"),
    path("programmes/import/", programmes.import_view, name="programmes-import"),
    path("programmes/<int:programme_id>/", programmes.programme_view, name="programme"),
    path(
        "programmes/<int:programme_id>/edit/",
        programmes.programme_edit_view,
        name="programme-edit",
    ),
    path("p/<slug:code>/programme/", programmes.referrals_view, name="referrals"),
    path("p/<slug:code>/programme/new/", programmes.referral_add_view, name="referral-add"),
    path(
        "p/<slug:code>/programme/<int:referral_id>/",
        programmes.referral_view,
        name="referral",
    ),
    path(
        "p/<slug:code>/programme/<int:referral_id>/change/",
        programmes.referral_change_view,
        name="referral-change",
    ),
]

handler400 = "uphold.web.errors.bad_request"
handler403 = "uphold.web.errors.forbidden"
handler404 = "uphold.web.errors.not_found"
handler500 = "uphold.web.errors.server_error"
