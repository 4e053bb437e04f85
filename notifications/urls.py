from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notifications_page, name="page"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # POST only, from the Follow buttons of the pages (back to them by a `next` on this site).
    path("follow/<slug:slug>/", views.follow_consultation, name="follow_consultation"),
    path("unfollow/<slug:slug>/", views.unfollow_consultation, name="unfollow_consultation"),
    path(
        "follow/<slug:slug>/questions/<int:number>/",
        views.follow_question,
        name="follow_question",
    ),
    path(
        "unfollow/<slug:slug>/questions/<int:number>/",
        views.unfollow_question,
        name="unfollow_question",
    ),
]
