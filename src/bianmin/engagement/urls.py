from django.urls import path

from . import views

app_name = "engagement"

urlpatterns = [
    path("", views.home, name="home"),
    path("symposiums/", views.symposium_list, name="symposiums"),
    path("symposiums/<int:symposium_id>/", views.symposium_detail, name="symposium"),
    path("representatives/<int:representative_id>/unmask/", views.representative_unmask, name="representative-unmask"),
    path("trainings/", views.training_list, name="trainings"),
    path("trainings/<int:training_id>/", views.training_detail, name="training"),
    path("trainings/<int:training_id>/materials/<int:material_id>/", views.training_material, name="training-material"),
    path("t/<str:token>/", views.training_register, name="training-register"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("c/<str:token>/", views.campaign_answer, name="campaign-answer"),
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="proposal"),
    path("assignments/<int:assignment_id>/reply/", views.reply_edit, name="reply-edit"),
    path("replies/<int:reply_id>/", views.reply_detail, name="reply"),
    path("replies/<int:reply_id>/document.<str:fmt>", views.reply_document, name="reply-document"),
]
