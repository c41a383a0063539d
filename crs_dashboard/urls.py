from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

FORM_METHODS = ["get", "post", "head", "options"]

urlpatterns = [
    path(
        "login/",
        # Forms answer GET and POST only (Django's form views also take PUT).
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, http_method_names=FORM_METHODS
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url="/", http_method_names=FORM_METHODS),
        name="password_change",
    ),
    path("admin/", admin.site.urls),
    path("fhir/", include("patients.fhir.urls")),
    path("", include("patients.urls")),
]
