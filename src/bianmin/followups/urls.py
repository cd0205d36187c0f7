from django.urls import path

from . import views

app_name = "followups"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("lists/build/", views.list_build, name="list-build"),
    path("lists/<int:list_id>/", views.list_detail, name="list"),
    path("items/<int:followup_id>/", views.followup_work, name="work"),
    path("items/<int:followup_id>/unmask/", views.followup_unmask, name="work-unmask"),
    path("visits/new/", views.visit_new, name="visit-new"),
    path("handling/", views.handling_list, name="handlings"),
    path("handling/<int:handling_id>/", views.handling_detail, name="handling"),
    path("handling/<int:handling_id>/evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("ledgers/followups/", views.ledger_followups, name="ledger-followups"),
    path("ledgers/problems/", views.ledger_problems, name="ledger-problems"),
    path("ledgers/rectifications/", views.ledger_rectifications, name="ledger-rectifications"),
    path("questionnaires/", views.questionnaire_list, name="questionnaires"),
    path("questionnaires/<int:questionnaire_id>/", views.questionnaire_detail, name="questionnaire"),
    path("s/<str:token>/", views.survey, name="survey"),
]
