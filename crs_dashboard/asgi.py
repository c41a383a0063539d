import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crs_dashboard.settings")
application = get_asgi_application()

from patients.checks import refuse_insecure_start  # noqa: E402

# Fail at start-up, not on every request.
refuse_insecure_start()
