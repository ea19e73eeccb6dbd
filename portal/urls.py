from csp.constants import NONCE, SELF
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from planchange.views import home
from portal import views
from portal.forms import AdminLoginForm, LoginForm
from webhooks.urls import urlpatterns as webhook_patterns

# ReDoc (2.x, from drf-spectacular-sidecar) cannot run under the portal's CSP as it is; its
# page alone gets what ReDoc needs, each as narrow as it comes, never 'unsafe-inline':
# - styled-components writes ReDoc's CSS into <style> elements as it renders: allowed when
#   they carry this response's nonce (static/portal/redoc-init.js hands it to ReDoc);
# - two <style> elements the bundle inserts while it loads, before any nonce can reach it
#   (an empty one, then its scrollbar CSS): allowed by their exact hashes;
# - its search index runs in a Web Worker made from a blob: URL;
# - its side menu shows its vendor's logo from cdn.redoc.ly (hard-coded; the image hides
#   itself when it can't load, as on machines without internet).
REDOC_CSP = {
    "style-src": [NONCE, "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
                  "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"],
    "worker-src": [SELF, "blob:"],
    "img-src": ["https://cdn.redoc.ly"],
}

health_patterns = ([path("", views.service_health, name="service-health")], "health")
# Settings: the login's own API tokens, and the tenant's webhooks.
settings_patterns = ([
    path("api-tokens/", views.api_tokens, name="api-tokens"),
    path("api-tokens/<id:token_id>/revoke/", views.api_token_revoke_page, name="api-token-revoke"),
    *webhook_patterns,
], "settings")

admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("billing/", include("billing.urls")),
    path("billing/", include("planchange.urls")),
    path("users/", include("licensing.urls")),
    path("health/", include(health_patterns)),
    path("settings/", include(settings_patterns)),
    path("support/", include("support.urls")),
    path("django-admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
    path("graph/", include("graph.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The API docs under the portal's CSP (templates/api/): Swagger UI needs nothing inline
    # once its init script is a request of its own (the split view). ReDoc renders with
    # styled-components, which can only put its CSS into <style> elements at run time; its
    # page alone also allows styles carrying that response's nonce (never 'unsafe-inline').
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
    path("api/redoc/", csp_update(REDOC_CSP)(
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")), name="api-redoc"),
]

# Under /api/ errors are problem+json, never HTML pages (portal/api/errors.py).
handler400 = "portal.api.errors.bad_request"
handler403 = "portal.api.errors.permission_denied"
handler404 = "portal.api.errors.page_not_found"
handler500 = "portal.api.errors.server_error"
