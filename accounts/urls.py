from django.urls import path

from . import views
from .lockout import login_rate_limited

urlpatterns = [
    path("login/", login_rate_limited(views.LoginView.as_view()), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
