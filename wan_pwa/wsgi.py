"""WSGI entry point (gunicorn wan_pwa.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wan_pwa.settings")
application = get_wsgi_application()
