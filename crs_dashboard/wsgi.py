import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crs_dashboard.settings")
application = get_wsgi_application()

from patients.checks import refuse_insecure_start  # noqa: E402

# Fail at start-up, not on every request.
refuse_insecure_start()
