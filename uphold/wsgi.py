"""The WSGI application that `uphold serve` runs."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uphold.settings")
application = get_wsgi_application()
